"""Writes of the trades app: the single data set of a trade transaction (its validation in data.py, its
writes in records.py), its checklist (steps.py), and the organisations appointed on it (grants.py).
"""

from ismit.trades.services.data import (
    NUMBER_FIELDS,
    SEA_ONLY_INCOTERMS,
    WATER_MODES,
    Codes,
    GoodsItemData,
    PartyData,
    TradeData,
    check_item,
    digits_of,
    in_order,
    require_change,
    stored_number,
    validate_trade_data,
)
from ismit.trades.services.grants import (
    appoint,
    revoke_grant,
)
from ismit.trades.services.records import (
    add_goods_item,
    create_trade,
    create_trade_record,
    delete_goods_item,
    delete_trade,
    duplicate_trade,
    trade_data_from,
    update_goods_item,
    update_trade,
)
from ismit.trades.services.steps import (
    STEP_MOVE_FIELDS,
    insert_steps,
    mark_commercial_step,
    move_locked_step,
    save_moved_steps,
    set_step_status,
    sync_checklist,
)

__all__ = [
    "NUMBER_FIELDS",
    "SEA_ONLY_INCOTERMS",
    "STEP_MOVE_FIELDS",
    "WATER_MODES",
    "Codes",
    "GoodsItemData",
    "PartyData",
    "TradeData",
    "add_goods_item",
    "appoint",
    "check_item",
    "create_trade",
    "create_trade_record",
    "delete_goods_item",
    "delete_trade",
    "digits_of",
    "duplicate_trade",
    "in_order",
    "insert_steps",
    "mark_commercial_step",
    "move_locked_step",
    "require_change",
    "revoke_grant",
    "save_moved_steps",
    "set_step_status",
    "stored_number",
    "sync_checklist",
    "trade_data_from",
    "update_goods_item",
    "update_trade",
    "validate_trade_data",
]
