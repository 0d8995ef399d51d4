"""A changelist that never sends the marketer back to an unfiltered list."""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class KeepFiltersChangeList(ChangeList):
    """Django answers a page number past the last page by redirecting to `?e=1`, which drops
    every filter and search. This one shows the last page instead, with a message saying so.
    With a FirstPageFirstPaginator, a list of one page is shown from the rows it counted."""

    def get_results(self, request):
        try:
            super().get_results(request)
        except IncorrectLookupParameters:
            paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
            asked, last = self.page_num, max(1, paginator.num_pages)
            self.page_num = min(max(asked, 1), last)
            which = "the last one" if self.page_num == last else "the first one"
            messages.warning(
                request,
                f"There is no page {asked} of this list: showing page {self.page_num}, "
                f"{which}, with the same filters.",
            )
            super().get_results(request)
        # A list that fits one page: the rows the paginator read to count them (Django would
        # read them again).
        if not self.multi_page and "first_rows" in vars(self.paginator):
            self.result_list = self.paginator.first_rows
