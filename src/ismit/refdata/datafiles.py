"""The code lists shipped in refdata/data/, and how they are rebuilt from the official UNECE files.

The product reads only the files in DATA_DIR at run time. Maintainers regenerate them from an official
release with `ismit refdata build-data --unlocode … --rec20 … --rec21 …`; the tests check that the
shipped rows still match the official files.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
LOCODE_BUILTIN_CSV = DATA_DIR / "locode_builtin.csv"
UNITS_CSV = DATA_DIR / "rec20_units.csv"
PACKAGE_TYPES_CSV = DATA_DIR / "rec21_package_types.csv"
INCOTERMS_JSON = DATA_DIR / "incoterms.json"
TRANSPORT_MODES_JSON = DATA_DIR / "transport_modes.json"
EXCHANGE_RATES_JSON = DATA_DIR / "exchange_rates.json"

# Status marks of deleted ("X") and deprecated ("D") entries in Rec 20 and Rec 21.
RETIRED_STATUSES = frozenset({"X", "D"})

# Major seaports, airports and inland hubs of the built-in UN/LOCODE set, grouped by country. In the
# 2024 release, China's city codes changed: CNSHA is now Hongqiao airport, the city and port are
# CNSGH/CNSHG, Ningbo CNNBO/CNNBG, Shenzhen CNSNZ, Qingdao CNQIN, Tianjin CNTNJ/CNTXG.
BUILTIN_LOCODES: tuple[str, ...] = (
    # West Africa
    "CIABJ", "CISPY", "CIBYK", "SNDKR", "SNDSS", "GHTEM", "GHTKD", "GHACC", "NGLOS", "NGONN", "NGPHC",
    "NGABV", "NGKAN", "TGLFW", "BJCOO", "BFOUA", "MLBKO", "GNCKY", "MRNKC", "LRMLW", "SLFNA", "GMBJL",
    "CMDLA",
    # North Africa
    "MAPTM", "MACAS", "MATNG", "MAAGA", "MARAK", "MACMN", "TNTUN", "DZALG", "EGALY", "EGPSD", "EGDAM",
    "EGCAI",
    # East, Central and Southern Africa
    "KEMBA", "KENBO", "KEKIS", "TZDAR", "ETADD", "DJJIB", "UGEBB", "RWKGL", "SDPZU", "MUPLU", "MGTMM",
    "MZMPM", "AOLAD", "CDMAT", "GALBV", "CGPNR", "NAWVB", "ZADUR", "ZACPT", "ZAPLZ", "ZAJNB", "ZARCB",
    # France
    "FRMRS", "FRFOS", "FRPAR", "FRCDG", "FRORY", "FRLEH", "FRDKK", "FRLYS", "FRNCE", "FRBOD", "FRNTE",
    "FRTLS", "FRSXB", "FRURO",
    # Benelux and Germany
    "NLRTM", "NLAMS", "NLVLI", "BEANR", "BEZEE", "BEBRU", "BEGNE", "BELGG", "DEHAM", "DEBRV", "DEFRA",
    "DEMUC", "DEBER", "DEDUI", "DEDUS", "DECGN", "DELEJ", "DESTR",
    # United Kingdom and Ireland
    "GBFXT", "GBLHR", "GBLGW", "GBSOU", "GBLGP", "GBLON", "GBMNC", "GBLIV", "IEDUB",
    # Southern Europe and the Mediterranean
    "ESVLC", "ESALG", "ESBCN", "ESMAD", "ESBIO", "ESLPA", "ITGOA", "ITSPE", "ITGIT", "ITNAP", "ITMXP",
    "ITROM", "ITFCO", "PTLIS", "PTSIE", "GRPIR", "GRATH", "MTMAR", "TRIST", "TRAMR", "TRMER", "TRIZM",
    # Northern, Central and Eastern Europe
    "PLGDN", "PLGDY", "PLWAW", "SEGOT", "SESTO", "DKCPH", "NOOSL", "CHBSL", "CHZRH", "ATVIE", "RULED",
    "RUMOW",
    # China, Hong Kong, Taiwan, Korea, Japan
    "CNSHA", "CNSGH", "CNSHG", "CNPVG", "CNNBO", "CNNBG", "CNSNZ", "CNSZX", "CNQIN", "CNTNJ", "CNTXG",
    "CNXAM", "CNGGZ", "CNCAN", "CNDAL", "CNBJS", "CNPEK", "HKHKG", "TWKHH", "TWTPE", "KRPUS", "KRINC",
    "KRSEL", "JPTYO", "JPYOK", "JPUKB", "JPOSA", "JPNRT",
    # South-East Asia
    "SGSIN", "MYPKG", "MYTPP", "MYKUL", "THLCH", "THBKK", "VNSGN", "VNCMT", "VNHPH", "VNHAN", "IDJKT",
    "IDSUB", "PHMNL",
    # South Asia
    "INNSA", "INBOM", "INMUN", "INMAA", "INDEL", "INBLR", "INCCU", "INCOK", "INTUT", "INVTZ", "BDCGP",
    "BDDAC", "BDMGL", "BDZYL", "LKCMB", "PKKHI", "PKBQM",
    # Middle East
    "AEJEA", "AEDXB", "AEAUH", "AEKHL", "SAJED", "SADMM", "SARUH", "OMSLL", "QAHMD", "QADOH", "ILHFA",
    "ILASH", "ILTLV", "LBBEY", "JOAQJ", "IRBND",
    # North America
    "USNYC", "USJFK", "USEWR", "USLAX", "USLGB", "USSAV", "USHOU", "USSEA", "USCHS", "USMIA", "USATL",
    "USORD", "USBAL", "CAVAN", "CAMTR", "CATOR", "MXZLO", "MXVER", "MXMEX",
    # Central and South America, Caribbean
    "PABLB", "PAMIT", "PAONX", "JMKIN", "BRSSZ", "BRPNG", "BRSAO", "BRGRU", "ARBUE", "CLSAI", "CLSCL",
    "PECLL", "COCTG", "COBUN", "COBOG", "ECGYE",
    # Oceania
    "AUSYD", "AUMEL", "AUBNE", "AUFRE", "NZAKL", "NZTRG",
)  # fmt: skip

# Rec 20 units that trade documents use most (weight, volume, length, area, count, energy, time).
COMMON_UNITS = frozenset(
    {
        "KGM", "TNE", "GRM", "LTR", "MLT", "HLT", "MTR", "CMT", "KMT", "MTK", "MTQ",
        "H87", "C62", "NAR", "PR", "DZN", "SET", "MIL", "KWH", "HUR", "DAY", "E48",
    }
)  # fmt: skip

# Rec 21 package types that small exporters declare most (bags and sacks for crops, cartons, pallets…).
COMMON_PACKAGE_TYPES = frozenset(
    {
        "BG", "SA", "JT", "5H", "JB", "BX", "CT", "CS", "CR", "PK", "PX",
        "DR", "BA", "BE", "BL", "CN", "NE", "VR", "VL",
    }
)  # fmt: skip


def _read_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def official_units(annex_2_3: Path) -> dict[str, dict[str, str]]:
    """Active Rec 20 units, by code, from the complete code list (Annexes II and III).

    Annex I only holds the units of physical quantities; Annexes II/III list every code (count units
    such as H87, PR, DZN and SET are only there).
    """
    units = {}
    for row in _read_dicts(annex_2_3):
        code = row["CommonCode"].strip()
        if code and row["Status"].strip() not in RETIRED_STATUSES:
            units[code] = {"code": code, "name": row["Name"].strip(), "symbol": row["Symbol"].strip()}
    return units


def official_package_types(rec21: Path) -> dict[str, dict[str, str]]:
    """Active Rec 21 package types, by code."""
    types = {}
    for row in _read_dicts(rec21):
        code = row["Code"].strip()
        if code and row["Status"].strip() not in RETIRED_STATUSES:
            types[code] = {"code": code, "name": " ".join(row["Name"].split())}
    return types


def official_locode_rows(code_list: Path, codes: set[str]) -> dict[str, list[str]]:
    """The first row of each wanted code in an official UN/LOCODE code list (UTF-8 CSV, no header)."""
    found: dict[str, list[str]] = {}
    with code_list.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if len(row) < 12 or not row[2]:
                continue
            code = row[1] + row[2]
            if code in codes and code not in found and row[0].upper() != "X":
                found[code] = row
    return found


def build_locode_builtin(*, code_list: Path, target: Path = LOCODE_BUILTIN_CSV) -> int:
    """Write the built-in UN/LOCODE set: the official rows of BUILTIN_LOCODES, with country headers."""
    rows = official_locode_rows(code_list, set(BUILTIN_LOCODES))
    missing = sorted(set(BUILTIN_LOCODES) - set(rows))
    if missing:
        raise ValueError(f"not in {code_list}: {', '.join(missing)}")
    countries = {code[:2] for code in rows}
    with code_list.open(encoding="utf-8", newline="") as f:
        # A country's header row has no location code and its name in capitals after a dot.
        headers = {
            r[1]: r
            for r in csv.reader(f)
            if len(r) >= 12 and not r[0] and not r[2] and r[3].startswith(".") and r[1] in countries
        }
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        for country in sorted(countries):
            if country in headers:
                writer.writerow(headers[country])
            for code in sorted(c for c in rows if c[:2] == country):
                writer.writerow(rows[code])
    return len(rows)


def build_units_csv(*, annex_2_3: Path, target: Path = UNITS_CSV) -> int:
    units = official_units(annex_2_3)
    missing = sorted(COMMON_UNITS - set(units))
    if missing:
        raise ValueError(f"common units not in {annex_2_3}: {', '.join(missing)}")
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "symbol", "common"])
        for code in sorted(units):
            unit = units[code]
            writer.writerow([code, unit["name"], unit["symbol"], int(code in COMMON_UNITS)])
    return len(units)


def build_package_types_csv(*, rec21: Path, target: Path = PACKAGE_TYPES_CSV) -> int:
    types = official_package_types(rec21)
    missing = sorted(COMMON_PACKAGE_TYPES - set(types))
    if missing:
        raise ValueError(f"common package types not in {rec21}: {', '.join(missing)}")
    with target.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "common"])
        for code in sorted(types):
            writer.writerow([code, types[code]["name"], int(code in COMMON_PACKAGE_TYPES)])
    return len(types)
