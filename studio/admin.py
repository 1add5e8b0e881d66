from django.contrib import admin

from studio.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """History tables: operators read them; nobody edits or deletes them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "project_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("actor_name", "project_name", "action", "object_repr")
    date_hierarchy = "created_at"
    list_select_related = False
