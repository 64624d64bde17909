"""Carriers and e-waybills (快递公司, 电子面单): waybill numbers obtained from e-waybill services (菜鸟, 快递鸟,
拼多多, 抖店) ahead of printing, handed out to parcels without a carrier call, and given back when an order is
intercepted.

**Numbers ahead of printing, per order.** A real e-waybill service issues a number for one parcel and one
receiver: the number is registered with the sender, the receiver and the route (大头笔, 集包地) the label
prints, the courier's network expects that parcel, and the merchant's quota (余额) is charged for it. None of
菜鸟's `cainiao.waybill.ii.get`, 拼多多's `pdd.waybill.get` and 快递鸟's EOrderService hands out blank ranges
(号段) a merchant could assign later, so a pool of blank numbers would be a fiction. BaoDan's pool is therefore
per order:

- the fulfilment code queues an order for a number from a carrier account once its stock is reserved and its
  carrier chosen (`services.request_numbers`: one INSERT … SELECT, no carrier call — safe on the surge path);
- the desk's refill loop (`desk.WaybillDesk.refill_once`) keeps each account's *ready* numbers (issued, not yet
  handed out) at its low-water mark: below it, it asks the service for the next `refill_batch` queued orders,
  oldest first, up to 10 parcels a call (菜鸟, 拼多多, 抖店) or one (快递鸟), within the account's daily capacity.
  Numbers are obtained just ahead of printing rather than for every order at once, because a live session's
  early cancellations would otherwise spend quota on numbers that must then be cancelled;
- printing takes the numbers of a batch of orders with one statement (`services.take_numbers`: UPDATE …
  RETURNING; on PostgreSQL over rows locked FOR UPDATE SKIP LOCKED), so 2,000 labels take 2,000 numbers with no
  carrier call and two printers never get the same number;
- a number goes back to its service (`services.cancel`, `services.void_for_orders`, and the desk's sweep of
  numbers whose order was cancelled or shipped otherwise), audited, sent and retried by the desk.

Every application carries its own id (`object_id`, BD<order id>[-n]) and the services answer an id they know
with the number they issued for it (快递鸟 ResultCode 106), so a lost answer is recovered by asking again and
costs no second number. See docs/decisions.md §11.

Modules: `base` (the adapter contract), `cloudprint` (the shape 菜鸟 and 拼多多 share), `cainiao`, `pdd`,
`kdniao`, `douyin` (adapters, their readings in their docstrings), `registry`, `tables`, `accounts` (carrier
accounts, secrets sealed), `repository`, `services`, `desk` (the background loop), `api`, `cli`. The simulator
plays the four services (baodan.sim.waybills).
"""
