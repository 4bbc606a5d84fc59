"""Measuring the simulator alone: `intake_rate(url, client_id, secret, count=, threads=)` pushes `count`
declarations from `threads` client threads (keep-alive connections, each declaration signed and with its
own Idempotency-Key) to a running simulator and gives the declarations accepted (202) per second.

The benchmark compares the platform's end-to-end rate against this one: it is the limit the platform
can reach through this single window. From the command line:

    ismit nsw-sim --measure-intake http://127.0.0.1:8100 --client-id ismit --secret S --count 5000 --threads 8
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from urllib.parse import urlsplit

from ismit.lib import hmac_auth

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"
 xmlns:p1="urn:wco:datamodel:WCO:Declaration_DS:DMS:2">
 <md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>
 <md:WCOTypeName>DEC</md:WCOTypeName>
 <md:ResponsibleCountryCode>CI</md:ResponsibleCountryCode>
 <md:ResponsibleAgencyName>Customs</md:ResponsibleAgencyName>
 <md:AgencyAssignedCustomizationVersionCode>v2.1</md:AgencyAssignedCustomizationVersionCode>
 <Declaration>
  <FunctionCode>9</FunctionCode>
  <FunctionalReferenceID>{lrn}</FunctionalReferenceID>
  <TypeCode>EXD</TypeCode>
  <GoodsItemQuantity>2</GoodsItemQuantity>
  <InvoiceAmount currencyID="EUR">16550.00</InvoiceAmount>
  <TotalPackageQuantity>812</TotalPackageQuantity>
  <BorderTransportMeans><ModeCode>1</ModeCode></BorderTransportMeans>
  <Declarant><Name>Anacarde Abidjan SARL</Name><ID>CI1234567890</ID>
   <Address><CityName>Abidjan</CityName><CountryCode>CI</CountryCode><Line>Zone 4</Line></Address></Declarant>
  <ExitOffice><ID>CIABJ</ID></ExitOffice>
  <Exporter><Name>Anacarde Abidjan SARL</Name><ID>CI1234567890</ID>
   <Address><CityName>Abidjan</CityName><CountryCode>CI</CountryCode><Line>Zone 4</Line></Address></Exporter>
  <GoodsShipment>
   <Consignee><Name>Provence Fruits Secs SAS</Name>
    <Address><CityName>Marseille</CityName><CountryCode>FR</CountryCode></Address></Consignee>
   <Consignment><ContainerCode>0</ContainerCode></Consignment>
   <Destination><CountryCode>FR</CountryCode></Destination>
   <ExportCountry><ID>CI</ID></ExportCountry>
   <GovernmentAgencyGoodsItem>
    <SequenceNumeric>1</SequenceNumeric>
    <StatisticalValueAmount currencyID="EUR">9300.00</StatisticalValueAmount>
    <Commodity><Description>Cashew kernels W320, shelled</Description>
     <Classification><ID>080132</ID><IdentificationTypeCode>HS</IdentificationTypeCode></Classification>
     <GoodsMeasure><GrossMassMeasure unitCode="KGM">15450</GrossMassMeasure>
      <NetNetWeightMeasure unitCode="KGM">15000</NetNetWeightMeasure></GoodsMeasure>
     <InvoiceLine><ItemChargeAmount currencyID="EUR">9300.00</ItemChargeAmount></InvoiceLine></Commodity>
    <Origin><CountryCode>CI</CountryCode></Origin>
   </GovernmentAgencyGoodsItem>
   <GovernmentAgencyGoodsItem>
    <SequenceNumeric>2</SequenceNumeric>
    <StatisticalValueAmount currencyID="EUR">7250.00</StatisticalValueAmount>
    <Commodity><Description>Cashew nuts in shell</Description>
     <Classification><ID>080131</ID><IdentificationTypeCode>HS</IdentificationTypeCode></Classification>
     <GoodsMeasure><GrossMassMeasure unitCode="KGM">5120</GrossMassMeasure>
      <NetNetWeightMeasure unitCode="KGM">5000</NetNetWeightMeasure></GoodsMeasure>
     <InvoiceLine><ItemChargeAmount currencyID="EUR">7250.00</ItemChargeAmount></InvoiceLine></Commodity>
    <Origin><CountryCode>CI</CountryCode></Origin>
   </GovernmentAgencyGoodsItem>
   <Invoice><ID>INV-2026-041</ID></Invoice>
  </GoodsShipment>
 </Declaration>
</md:MetaData>
"""


def sample_declaration(lrn: str) -> bytes:
    """A valid export declaration (WCO DEC, two goods items of cashew) with the given LRN."""
    return SAMPLE.replace("{lrn}", lrn).encode("utf-8")


def intake_rate(
    url: str,
    client_id: str,
    secret: str,
    *,
    count: int = 1000,
    threads: int = 8,
    body_for=sample_declaration,
    timeout: float = 60.0,
) -> dict:
    """Declarations per second a running simulator takes in (202), measured from `threads` clients."""
    parts = urlsplit(url)
    base = parts.path.rstrip("/")
    run = uuid.uuid4().hex[:8]
    next_index = iter(range(count))
    lock = threading.Lock()
    errors: list[str] = []
    done = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
        path = f"{base}/customs/declarations"
        while True:
            with lock:
                n = next(next_index, None)
            if n is None:
                break
            body = body_for(f"BENCH-{run}-{n:06d}")
            headers = {
                "Content-Type": "application/xml; charset=UTF-8",
                "Idempotency-Key": f"bench-{run}-{n}",
                **hmac_auth.sign_request(secret, "POST", path, body, client_id=client_id),
            }
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 202
                if not ok:
                    with lock:
                        errors.append(f"HTTP {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if ok:
                with lock:
                    done[0] += 1
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "count": done[0],
        "threads": len(pool),
        "seconds": seconds,
        "per_second": done[0] / seconds if seconds else 0.0,
        "errors": len(errors),
        "first_errors": errors[:5],
    }
