"""The kits API (rule R7): a station's or wharf's stock by lot, and the deliveries and
adjustments that change it. Writes go through ``crews.kits``, as the pages' do."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC, error_doc

from . import kits
from .choices import KitAdjustmentReason, KitKind
from .kit_stock import Place, PlaceStock, stock_at, visible_place
from .models import KitAdjustment, KitDelivery


class LotOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KitKind.choices)
    lot = serializers.CharField()
    expires_on = serializers.DateField()
    expired = serializers.BooleanField(help_text="Expired before today (Asia/Ho_Chi_Minh).")
    delivered = serializers.IntegerField()
    used = serializers.IntegerField(
        help_text="Rapid results recorded here with this lot, or with none (first-expiring-first)."
    )
    adjusted = serializers.IntegerField(help_text="The sum of the adjustments, signed.")
    on_hand = serializers.IntegerField()


class UnlistedOut(serializers.Serializer):
    lot = serializers.CharField()
    results = serializers.IntegerField()


class StockOut(serializers.Serializer):
    place = serializers.ChoiceField(choices=["station", "wharf"])
    code = serializers.CharField()
    name = serializers.CharField()
    on_hand = serializers.IntegerField()
    lots = LotOut(many=True)
    unlisted = UnlistedOut(
        many=True, help_text="Rapid results naming a lot never delivered here: they use none of this stock."
    )
    unallocated = serializers.IntegerField(help_text="Rapid results with no lot beyond every kit received here.")


class DeliveryIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KitKind.choices, default=KitKind.RAPID)
    lot = serializers.CharField(max_length=60)
    expires_on = serializers.DateField()
    quantity = serializers.IntegerField(min_value=1, max_value=kits.MAX_KITS)
    received_at = serializers.DateTimeField(required=False, help_text="Now when not given.")
    client_uuid = serializers.UUIDField(required=False, allow_null=True, default=None)


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    lot = serializers.CharField()
    expires_on = serializers.DateField()
    quantity = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    received_by = serializers.CharField(source="received_by.username")
    client_uuid = serializers.UUIDField(allow_null=True)


class AdjustmentIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KitKind.choices, default=KitKind.RAPID)
    lot = serializers.CharField(max_length=60)
    reason = serializers.ChoiceField(choices=KitAdjustmentReason.choices)
    quantity = serializers.IntegerField(
        min_value=-kits.MAX_KITS,
        max_value=kits.MAX_KITS,
        help_text="damaged, returned: how many kits left the stock (positive); counted: the difference found.",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    client_uuid = serializers.UUIDField(required=False, allow_null=True, default=None)


class AdjustmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    lot = serializers.CharField()
    quantity = serializers.IntegerField(help_text="The change to the stock, signed.")
    reason = serializers.CharField()
    note = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    client_uuid = serializers.UUIDField(allow_null=True)


STOCK_EXAMPLE = {
    "place": "station",
    "code": "KCS-CP-01",
    "name": "Trạm KCS Cửa Ông",
    "on_hand": 143,
    "lots": [
        {
            "kind": "rapid",
            "lot": "AG-2108-55",
            "expires_on": "2021-09-30",
            "expired": False,
            "delivered": 200,
            "used": 55,
            "adjusted": -2,
            "on_hand": 143,
        }
    ],
    "unlisted": [],
    "unallocated": 0,
}

REFUSED = error_doc(
    "Refused by the rules, naming the field",
    **{
        "Lot not delivered here": {
            "error": "invalid",
            "message": "Lot AG-2108-99 was never delivered to KCS-CP-01.",
            "fields": {"lot": ["Lot AG-2108-99 was never delivered to KCS-CP-01."]},
        }
    },
)


def place_or_404(request, kind: str, code: str) -> Place:
    if not request.user.has_perm("crews.view_kitdelivery"):
        raise PermissionDenied
    place = visible_place(request.user, kind, code)
    if place is None:
        raise Http404
    return place


def stock_json(stock: PlaceStock) -> dict:
    today = timezone.localdate()
    place = stock.place
    return {
        "place": "station" if place.is_station else "wharf",
        "code": place.code,
        "name": place.name,
        "on_hand": stock.on_hand,
        "lots": [
            {
                "kind": lot.kind,
                "lot": lot.lot,
                "expires_on": lot.expires_on.isoformat(),
                "expired": lot.expired_on(today),
                "delivered": lot.delivered,
                "used": lot.used,
                "adjusted": lot.adjusted,
                "on_hand": lot.on_hand,
            }
            for lot in stock.lots
        ],
        "unlisted": [{"lot": lot, "results": count} for lot, count in sorted(stock.unlisted.items())],
        "unallocated": stock.unallocated,
    }


class _Stock(APIView):
    kind = "station"

    def get(self, request, code: str):
        return Response(stock_json(stock_at(place_or_404(request, self.kind, code))))


class _Deliveries(APIView):
    kind = "station"

    def post(self, request, code: str):
        place = place_or_404(request, self.kind, code)
        form = DeliveryIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        delivery, created = kits.record_delivery(
            request.user,
            place,
            kits.DeliveryData(
                kind=data["kind"],
                lot=data["lot"],
                expires_on=data["expires_on"],
                quantity=data["quantity"],
                received_at=data.get("received_at"),
                client_uuid=data["client_uuid"],
            ),
        )
        delivery = KitDelivery.objects.select_related("received_by").get(pk=delivery.pk)
        return Response(DeliveryOut(delivery).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class _Adjustments(APIView):
    kind = "station"

    def post(self, request, code: str):
        place = place_or_404(request, self.kind, code)
        form = AdjustmentIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        adjustment, created = kits.record_adjustment(
            request.user,
            place,
            kits.AdjustmentData(
                kind=data["kind"],
                lot=data["lot"],
                reason=data["reason"],
                quantity=data["quantity"],
                note=data["note"],
                client_uuid=data["client_uuid"],
            ),
        )
        adjustment = KitAdjustment.objects.select_related("recorded_by").get(pk=adjustment.pk)
        return Response(
            AdjustmentOut(adjustment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def _stock_schema(where: str):
    return extend_schema(
        responses={
            200: OpenApiResponse(StockOut, examples=[OpenApiExample("One lot", value=STOCK_EXAMPLE)]),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
        },
        summary=f"A {where}'s kit stock by lot (derived: deliveries − rapid results ± adjustments)",
    )


def _write_schema(where: str, what: str, request, response):
    return extend_schema(
        request=request,
        responses={
            201: response,
            200: OpenApiResponse(response, description="Retry with a known client_uuid: the first record"),
            400: REFUSED,
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
        },
        summary=f"Record a kit {what} at a {where} (idempotent by client_uuid)",
    )


class StationKits(_Stock):
    kind = "station"

    @_stock_schema("KCS station")
    def get(self, request, code: str):
        return super().get(request, code)


class WharfKits(_Stock):
    kind = "wharf"

    @_stock_schema("wharf")
    def get(self, request, code: str):
        return super().get(request, code)


class StationKitDeliveries(_Deliveries):
    kind = "station"

    @_write_schema("KCS station", "delivery", DeliveryIn, DeliveryOut)
    def post(self, request, code: str):
        return super().post(request, code)


class WharfKitDeliveries(_Deliveries):
    kind = "wharf"

    @_write_schema("wharf", "delivery", DeliveryIn, DeliveryOut)
    def post(self, request, code: str):
        return super().post(request, code)


class StationKitAdjustments(_Adjustments):
    kind = "station"

    @_write_schema("KCS station", "adjustment", AdjustmentIn, AdjustmentOut)
    def post(self, request, code: str):
        return super().post(request, code)


class WharfKitAdjustments(_Adjustments):
    kind = "wharf"

    @_write_schema("wharf", "adjustment", AdjustmentIn, AdjustmentOut)
    def post(self, request, code: str):
        return super().post(request, code)
