from baodan.documents import model
from baodan.documents.model import PackingSlipData, Party, PickLine, SlipLine

RECEIVER = Party(name="欧阳娜娜", phone="13812341234", province="上海市", city="上海市", district="浦东新区",
                 address="世纪大道 100 号 环球金融中心 52 楼")


def test_printed_receiver_masks_the_phone_of_every_order():
    printed = model.printed_receiver(RECEIVER, platform_encrypted=False)
    assert printed.phone == "138****1234"
    assert printed.name == "欧阳娜娜"
    assert printed.address == RECEIVER.address


def test_printed_receiver_of_a_platform_encrypted_order_shows_nothing_in_clear():
    printed = model.printed_receiver(RECEIVER, platform_encrypted=True)
    assert printed.name == "欧***"
    assert printed.phone == "138****1234"
    assert "环球金融中心" not in printed.address and printed.address.endswith("****")
    assert printed.region == "上海市 浦东新区"  # the region stays: sorting needs it, it names no one


def test_printed_receiver_keeps_what_the_platform_already_masked():
    masked = Party(name="张*", phone="138****5678-****", address="文三路****")
    printed = model.printed_receiver(masked, platform_encrypted=True)
    assert (printed.name, printed.phone, printed.address) == ("张*", "138****5678-****", "文三路****")


def test_virtual_numbers_keep_their_extension_masked():
    printed = model.printed_receiver(Party(name="李四", phone="13812345678-1234"), platform_encrypted=False)
    assert printed.phone == "138****5678-****"


def test_truncate_counts_cjk_characters_as_two_columns():
    assert model.truncate("纯棉短袜", 8) == "纯棉短袜"
    assert model.truncate("夏季新款冰丝防晒衣", 10) == "夏季新款…"
    assert model.truncate("abc  def\nghi", 20) == "abc def ghi"
    assert model.truncate("abcdefghij", 6) == "abcd…"


def test_pick_rows_merge_a_hot_sku_into_one_row_with_the_total():
    lines = [PickLine(location="A-10-01", sku_code="SKU-1", title="防晒衣", qty=1)] * 5000
    rows = model.pick_rows(lines)
    assert len(rows) == 1 and rows[0].qty == 5000


def test_pick_rows_walk_locations_with_numbers_compared_as_numbers():
    lines = [PickLine("A-10-01", "S1", "t", 1), PickLine("a-2-01", "S2", "t", 1), PickLine("B-01-01", "S3", "t", 1),
             PickLine("A-2-01", "S0", "t", 2, barcode="690")]
    rows = model.pick_rows(lines)
    assert [row.location for row in rows] == ["A-2-01", "a-2-01", "A-10-01", "B-01-01"]
    assert [row.sku_code for row in rows][:2] == ["S0", "S2"]


def test_pick_rows_keep_a_sku_at_two_locations_apart():
    rows = model.pick_rows([PickLine("A-1", "S1", "t", 1), PickLine("B-1", "S1", "t", 2),
                            PickLine("A-1", "S1", "t", 3)])
    assert [(row.location, row.qty) for row in rows] == [("A-1", 4), ("B-1", 2)]


def test_slip_total_is_the_paid_amount_else_the_sum_of_priced_lines():
    lines = (SlipLine("S1", "t", 2, unit_price_fen=8900), SlipLine("S2", "t", 1, unit_price_fen=1990))
    slip = PackingSlipData(order_no="1", shop="s", receiver=RECEIVER, lines=lines)
    assert model.slip_total_fen(slip) == 19790
    assert model.slip_total_fen(PackingSlipData(order_no="1", shop="s", receiver=RECEIVER, lines=lines,
                                                paid_fen=18800)) == 18800
    unpriced = (*lines, SlipLine("S3", "gift", 1))
    assert model.slip_total_fen(PackingSlipData(order_no="1", shop="s", receiver=RECEIVER, lines=unpriced)) is None


def test_page_sizes_are_in_millimetres():
    assert model.PageSize("100x150").mm == (100, 150)
    assert model.PageSize("76x130").mm == (76, 130)
