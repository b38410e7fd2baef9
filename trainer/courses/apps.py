from django.apps import AppConfig


class CoursesConfig(AppConfig):
    """Courses, enrolment, assignments with accommodations, gradebook, item analysis."""

    name = "trainer.courses"
    label = "courses"
    verbose_name = "Courses"
