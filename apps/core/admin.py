from django.contrib import admin

admin.site.site_header = "CDP administration"
admin.site.site_title = "CDP admin"
admin.site.index_title = "Traffic and configuration"
