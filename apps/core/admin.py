"""Users in the admin: the Maintainer role manages them, but only a superuser makes one."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()


class RoleAwareUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        # Otherwise anyone who may change users could tick "superuser" on their own account.
        return (*readonly, "is_superuser")


admin.site.unregister(User)
admin.site.register(User, RoleAwareUserAdmin)
