from django.contrib import admin

from classifiers.models import Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "language", "created_by", "created_at")
    list_filter = ("kind", "language")
    search_fields = ("name", "slug", "description")
    readonly_fields = ("slug", "created_at", "updated_at")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("project", "user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("project__name", "user__username", "user__email")
    autocomplete_fields = ("user", "project")
