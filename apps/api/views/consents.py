"""Consent types (what the consent bar offers and rules and destinations may require)."""

from rest_framework import viewsets

from apps.api.serializers import ConsentTypeSerializer
from apps.profiles.models import ConsentType


class ConsentTypeViewSet(viewsets.ModelViewSet):
    api_area = "profiles"
    serializer_class = ConsentTypeSerializer
    queryset = ConsentType.objects.all()
    ordering = "-created"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def perform_create(self, serializer):
        consent_type = ConsentType(**serializer.validated_data)
        consent_type.full_clean()
        consent_type.save(force_insert=True)
        serializer.instance = consent_type

    def perform_update(self, serializer):
        consent_type = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(consent_type, name, value)
        consent_type.full_clean()
        consent_type.save()
