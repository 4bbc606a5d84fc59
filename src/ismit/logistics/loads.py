"""Load types: containers and air ULDs with their inner dimensions, door opening and payload.

Pure Python (no Django). Figures are the typical published values (sources in docs/consolidation.md);
units vary a few centimetres and kilograms between owners, so a forwarder can give its own in the
optimiser's input. Lengths in centimetres, masses in kilograms, prices in the plan's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SEA = "sea"
AIR = "air"
MODES = (SEA, AIR)


@dataclass(frozen=True)
class LoadType:
    code: str
    name: str
    mode: str
    length_cm: float  # inner length (along the doors' axis)
    width_cm: float  # inner width
    height_cm: float  # inner height
    door_width_cm: float
    door_height_cm: float
    payload_kg: float
    price: Decimal
    #: inner volume; defaults to length x width x height (contoured ULDs state it, it exceeds the base box)
    volume_m3: float = 0.0
    #: a temperature-controlled unit (reefer container); only temperature-controlled cargo goes in it
    temperature_control: bool = False

    def __post_init__(self) -> None:
        if not self.volume_m3:
            object.__setattr__(self, "volume_m3", self.length_cm * self.width_cm * self.height_cm / 1e6)

    @property
    def floor_m2(self) -> float:
        return self.length_cm * self.width_cm / 1e4

    def usable_volume_m3(self, stowage_factor: float) -> float:
        return self.volume_m3 * stowage_factor

    def fits_package(self, length_cm: float, width_cm: float, height_cm: float) -> bool:
        """Whether one package goes through the door and stands inside. "This side up" is assumed: the
        height stays vertical, the two horizontal sides may be swapped. The package enters along the
        length, so the side that passes the door must fit the door width and the inner width."""
        if height_cm > self.height_cm or height_cm > self.door_height_cm:
            return False
        across = min(self.width_cm, self.door_width_cm)
        for along, side in ((length_cm, width_cm), (width_cm, length_cm)):
            if side <= across and along <= self.length_cm:
                return True
        return False

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "mode": self.mode,
            "length_cm": self.length_cm,
            "width_cm": self.width_cm,
            "height_cm": self.height_cm,
            "door_width_cm": self.door_width_cm,
            "door_height_cm": self.door_height_cm,
            "payload_kg": self.payload_kg,
            "volume_m3": round(self.volume_m3, 3),
            "temperature_control": self.temperature_control,
            "price": str(self.price),
        }


def _t(code, name, mode, lwh, door, payload, price, volume=0.0, reefer=False) -> LoadType:
    return LoadType(
        code=code,
        name=name,
        mode=mode,
        length_cm=lwh[0],
        width_cm=lwh[1],
        height_cm=lwh[2],
        door_width_cm=door[0],
        door_height_cm=door[1],
        payload_kg=payload,
        price=Decimal(price),
        volume_m3=volume,
        temperature_control=reefer,
    )


#: Default load types. Prices are indicative placeholders (USD) used only to rank load types by cost;
#: a forwarder gives its own in the input.
DEFAULT_LOAD_TYPES: tuple[LoadType, ...] = (
    # ISO 668 1CC / 1AA / 1AAA general-purpose containers, inner dimensions and doors per ISO 1496-1 as
    # published by the World Shipping Council and carriers; payload = 30,480 kg max gross - typical tare.
    _t("20DV", "20' dry container", SEA, (589.6, 235.0, 239.3), (234.0, 227.4), 28_200, "1800"),
    _t("40DV", "40' dry container", SEA, (1203.2, 235.0, 239.2), (234.0, 227.4), 26_700, "2600"),
    _t("40HC", "40' high cube container", SEA, (1203.2, 235.0, 269.7), (234.0, 257.7), 26_500, "2800"),
    # Integral reefers (ISO 1496-2): the machinery and T-floor take length and height.
    _t(
        "20RF",
        "20' reefer container",
        SEA,
        (544.0, 229.0, 226.3),
        (229.0, 223.9),
        27_400,
        "3600",
        reefer=True,
    ),
    _t(
        "40RH",
        "40' high cube reefer",
        SEA,
        (1158.0, 229.4, 255.0),
        (229.4, 250.0),
        29_000,
        "5200",
        reefer=True,
    ),
    # IATA ULDs. AKE (LD3): base 156 x 153 cm, contoured, 4.3 m3 inside, 1,588 kg max gross, ~85 kg tare.
    _t("AKE", "LD3 container (AKE)", AIR, (150.0, 145.0, 155.0), (145.0, 150.0), 1_500, "2400", volume=4.3),
    # PMC/P6P pallet 318 x 244 cm; usable 307 x 233 cm inside the net; lower-deck contour 160 cm (LD7
    # limit 4,626 kg) or main-deck contour 244 cm on freighters (6,804 kg max gross); pallet ~120 kg.
    _t(
        "PMC-LD",
        "PMC pallet, lower deck",
        AIR,
        (307.0, 233.0, 160.0),
        (233.0, 160.0),
        4_500,
        "6500",
        volume=10.7,
    ),
    _t(
        "PMC-MD",
        "PMC pallet, main deck",
        AIR,
        (307.0, 233.0, 244.0),
        (233.0, 244.0),
        6_680,
        "9000",
        volume=17.5,
    ),
)

DEFAULTS_BY_CODE = {t.code: t for t in DEFAULT_LOAD_TYPES}
