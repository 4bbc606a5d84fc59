from ninja import Router

router = Router(tags=["trades"])
