"""The simulator's e-waybill services over real HTTP: signatures verified, numbers in each courier's shape and
unique, the same application answered with the same number, a cancel of an unknown number refused with the
service's error, the quota and subscriptions a TOML file sets, and the inspection endpoint."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from baodan.channels.base import Call, PlatformError
from baodan.core import clock
from baodan.sim import Simulator, load_config
from baodan.sim.config import SimConfigError
from baodan.sim.simulation import receiver_cipher
from baodan.waybills.base import Address, CarrierAccount, Contact, Parcel
from baodan.waybills.registry import ADAPTERS

SENDER = Contact("杭州仓", "13900000000", Address("浙江省", "杭州市", "余杭区", "仓前街道 1 号"))


def _parcel(object_id: str, province: str = "浙江省") -> Parcel:
    return Parcel(object_id, f"T{object_id}", "douyin",
                  Contact("张三", "13800138000", Address(province, "杭州市", "西湖区", "文三路 1 号")), (("杯", 1),))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as simulator:
        yield simulator


def _account(sim: Simulator, service: str, carrier_code: str, **creds: str) -> CarrierAccount:
    """An account at the simulator's service (its prefix: the adapter's name, or <adapter>-waybill for the
    platforms' own)."""
    found = replace(sim.simulation.carriers.credentials(service), **creds)
    adapter = service.removesuffix("-waybill")
    return CarrierAccount(1, service, adapter, carrier_code, found, f"{sim.url}/{service}", SENDER)


def _call(account: CarrierAccount, call: Call) -> dict:
    adapter = ADAPTERS[account.adapter]
    request = adapter.sign(account.creds, call, base_url=account.base_url, now=clock.utcnow())
    response = httpx.request(request.http_method, request.url, params=request.query, headers=request.headers,
                             content=request.body)
    return adapter.read_response(call, response.status_code, response.content)


@pytest.mark.parametrize(("adapter", "carrier_code", "shape"), [
    ("cainiao", "ZTO", r"7\d{11}"), ("cainiao", "SF", r"SF\d{13}"), ("cainiao", "YTO", r"YT\d{13}"),
    ("kdniao", "YUNDA", r"43\d{11}"), ("kdniao", "STO", r"77\d{11}")])
def test_numbers_come_in_each_couriers_shape_and_once_per_application(sim, adapter, carrier_code, shape) -> None:
    account = _account(sim, adapter, carrier_code)
    waybills = ADAPTERS[adapter]
    numbers = [waybills.parse_apply(_call(account, waybills.apply_call(account, [_parcel(f"BD{i}")])))[0].waybill_no
               for i in range(3)]
    assert len(set(numbers)) == 3 and all(re.fullmatch(shape, n) for n in numbers)
    again = waybills.parse_apply(_call(account, waybills.apply_call(account, [_parcel("BD1")])))[0]
    assert again.waybill_no == numbers[1]
    assert len(sim.simulation.carriers.issued(adapter)) == 3


def test_a_bad_signature_or_session_gets_the_services_error(sim) -> None:
    account = _account(sim, "cainiao", "ZTO", app_secret="not-the-secret")
    with pytest.raises(PlatformError) as refused:
        _call(account, ADAPTERS["cainiao"].apply_call(account, [_parcel("BD1")]))
    assert refused.value.platform_code == "25"
    account = _account(sim, "cainiao", "ZTO", access_token="an-old-session")
    with pytest.raises(PlatformError) as expired:
        _call(account, ADAPTERS["cainiao"].apply_call(account, [_parcel("BD1")]))
    assert expired.value.token_expired
    account = _account(sim, "kdniao", "YUNDA", app_secret="not-the-app-key")
    with pytest.raises(PlatformError) as refused:
        _call(account, ADAPTERS["kdniao"].apply_call(account, [_parcel("BD1")]))
    assert refused.value.platform_code == "102" and "DataSign" in refused.value.message
    assert sim.simulation.carriers.issued("cainiao") == sim.simulation.carriers.issued("kdniao") == []


def test_a_cancel_of_a_number_never_issued_is_refused_and_a_known_one_taken_back_once(sim) -> None:
    account = _account(sim, "kdniao", "YUNDA")
    kdniao = ADAPTERS["kdniao"]
    (issued,) = kdniao.parse_apply(_call(account, kdniao.apply_call(account, [_parcel("BD1")])))
    with pytest.raises(PlatformError) as unknown:
        _call(account, kdniao.cancel_call(account, waybill_no="4300000000000", object_id="BD1"))
    assert unknown.value.platform_code == "105" and "单号不存在" in unknown.value.message
    _call(account, kdniao.cancel_call(account, waybill_no=issued.waybill_no, object_id="BD1"))
    with pytest.raises(PlatformError, match="已取消"):
        _call(account, kdniao.cancel_call(account, waybill_no=issued.waybill_no, object_id="BD1"))
    (cancelled,) = sim.simulation.carriers.cancelled("kdniao")
    assert cancelled.waybill_no == issued.waybill_no
    status = httpx.get(f"{sim.url}/_sim/waybills", params={"carrier": "kdniao"}).json()
    assert (status["issued"], status["cancelled"]) == (1, 1)
    assert status["numbers"][0]["waybill_no"] == issued.waybill_no
    assert httpx.get(f"{sim.url}/_sim/waybills", params={"carrier": "sf"}).status_code == 404


def test_pdds_e_waybill_service_leaves_the_pdd_platform_its_prefix() -> None:
    with Simulator(load_config(port=0)) as sim:
        account = _account(sim, "pdd-waybill", "ZTO")
        pdd = ADAPTERS["pdd"]
        (issued,) = pdd.parse_apply(_call(account, pdd.apply_call(account, [_parcel("BD1")])))
        assert [w.waybill_no for w in sim.simulation.carriers.issued("pdd-waybill")] == [issued.waybill_no]
        platform = sim.credentials("pdd")
        answer = httpx.post(f"{sim.url}/pdd/api/router", data={"type": "pdd.order.information.get",
                                                                 "client_id": platform.app_key})
        assert answer.json()["error_response"]["error_code"] == 10016  # the platform's own signature check


def test_doudians_e_waybill_service_opens_only_the_ciphertexts_the_simulated_doudian_issued() -> None:
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"douyin": config.platforms["douyin"]})) as sim:
        first, second = sim.add_orders("douyin", 2)
        platform = sim.config.platforms["douyin"]

        def masked(order: dict, object_id: str, cipher_of: dict | None = None) -> Parcel:
            source = cipher_of or order
            cipher = receiver_cipher(platform, source["platform_order_id"], source["receiver"])
            r = order["receiver"]
            return Parcel(object_id, order["platform_order_id"], "douyin",
                          Contact("张*", "138****0000", Address(r["province"], r["city"], r.get("district") or "",
                                                               "路****"), cipher=cipher), (("杯", 1),))

        account = _account(sim, "douyin-waybill", "ZTO")
        douyin = ADAPTERS["douyin"]
        good, foreign = masked(first, "BD1"), masked(second, "BD2", cipher_of=first)  # first's ciphertexts
        numbers = douyin.parse_apply(_call(account, douyin.apply_call(account, [good, foreign])))
        assert [w.object_id for w in numbers] == ["BD1"] and re.fullmatch(r"7\d{11}", numbers[0].waybill_no)
        with pytest.raises(PlatformError) as refused:
            douyin.parse_apply(_call(account, douyin.apply_call(account, [foreign])))
        assert refused.value.platform_code == "300008" and "BD2" in refused.value.message
        (issued,) = sim.simulation.carriers.issued("douyin-waybill")
        assert issued.receiver.cipher["address"] == good.receiver.cipher["address"]
        assert issued.courier == "zhongtong"
        with pytest.raises(PlatformError) as token:
            bad = _account(sim, "douyin-waybill", "ZTO", access_token="not-the-token")
            _call(bad, douyin.apply_call(bad, [good]))
        assert token.value.token_expired
        douyin.parse_cancel(_call(account, douyin.cancel_call(account, waybill_no=issued.waybill_no, object_id="BD1")))
        with pytest.raises(PlatformError, match="已取消"):
            _call(account, douyin.cancel_call(account, waybill_no=issued.waybill_no, object_id="BD1"))


def test_a_toml_file_sets_each_services_quota_and_couriers(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text('[carriers.kdniao]\nbalance = 1\ncouriers = ["YD"]\napp_key = "1237100"\n'
                    '[carriers.cainiao]\nenabled = false\n', encoding="utf-8")
    config = load_config(path, port=0)
    assert list(config.carriers) == ["kdniao", "pdd-waybill", "douyin-waybill"]
    assert config.carriers["kdniao"].credentials.app_key == "1237100"
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as sim:
        assert httpx.post(f"{sim.url}/cainiao/router/rest").status_code == 404  # not served
        kdniao = ADAPTERS["kdniao"]
        with pytest.raises(PlatformError, match="未开通"):
            account = _account(sim, "kdniao", "STO")
            _call(account, kdniao.apply_call(account, [_parcel("BD1")]))
        account = _account(sim, "kdniao", "YUNDA")
        kdniao.parse_apply(_call(account, kdniao.apply_call(account, [_parcel("BD1")])))
        with pytest.raises(PlatformError, match="余额不足"):
            _call(account, kdniao.apply_call(account, [_parcel("BD2")]))
        assert sim.simulation.carriers.balance("kdniao") == 0
    path.write_text("[carriers.sf]\nbalance = 1\n", encoding="utf-8")
    with pytest.raises(SimConfigError, match="unknown carrier service"):
        load_config(path)
    path.write_text("[carriers.kdniao]\nquota = 1\n", encoding="utf-8")
    with pytest.raises(SimConfigError, match="unknown keys"):
        load_config(path)
