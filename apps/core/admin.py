from django.contrib import admin

admin.site.site_header = "CDP administration"
admin.site.site_title = "CDP admin"
admin.site.index_title = "Traffic and configuration"
# "View site": the page showing the tracker at work on this CDP (staff may open it).
admin.site.site_url = "/tracker/demo/"
