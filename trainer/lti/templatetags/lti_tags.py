from __future__ import annotations

from typing import Any

from django import template

from trainer.courses.models import Course
from trainer.lti.selectors import course_lti_links

register = template.Library()


@register.inclusion_tag("lti/_course_panel.html")
def lti_course_panel(course: Course) -> dict[str, Any]:
    """The course's LMS links and the roster-sync button (on the instructors' course page)."""
    links = list(course_lti_links(course))
    return {"course": course, "links": links, "can_sync": any(link.context.memberships_url for link in links)}
