"""The safety team's review API and web page (``/review``); see ``API.md``."""

from proxy.review.api import install_review

__all__ = ["install_review"]
