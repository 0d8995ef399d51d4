"""Examples shown in the API docs, per operation: what a developer copies first."""

PROFILE = {
    "id": "5f0c1c3e-2f1a-4c6e-9a51-0c0de1f0a9b7",
    "ids": ["a1b2c3"],
    "active": True,
    "segments": ["frequent-visitors"],
    "metadata": {"time": {"insert": "2026-11-02T09:15:00+00:00", "visit": {"count": 7}}},
    "stats": {"visits": 7, "views": 31},
    "traits": {"plan": "gold"},
    "interests": {"shoes": 3},
    "consents": {"marketing": {"grant": "2026-11-02T09:20:00+00:00", "revoke": None}},
    "aux": {},
    "data": {"pii": {"firstname": "Ann"}, "contact": {"email": {"main": "ann@example.com"}}},
}
SOURCE = {
    "id": "shop-web",
    "name": "Web shop",
    "description": "The tracker on shop.example.com",
    "bridge": "rest",
    "enabled": True,
}

RESHAPING = {
    "name": "Shop items to product",
    "position": 0,
    "enabled": True,
    "source": "shop-web",
    "condition": "event@properties.sku EXISTS",
    "properties": {"product": {"id": "event@properties.sku", "price": "event@properties.price"}},
    "context": None,
    "session": {"campaign": "event@context.utm.campaign"},
}
INDEXED_PROPERTY = {"property": "order.total", "trait": "order_total", "type": "number"}
REINDEX_JOB = {
    "id": "9a51c3e2f1a4c6e0c0de1f0a9b75f0c1",
    "status": "queued",
    "total": 58211,
    "done": 0,
    "percent": 0,
    "requested_by": "API key Deploys (cdp_3kq9)",
    "requested_at": "2026-12-03T08:00:00Z",
    "finished_at": None,
    "error": "",
}

# (method, path) -> {"request": body, "response": (status, body)}
EXAMPLES: dict[tuple[str, str], dict] = {
    ("get", "/api/v1/profiles/"): {
        "response": ("200", {"next": None, "previous": None, "results": [PROFILE]})
    },
    ("get", "/api/v1/profiles/{id}/"): {"response": ("200", PROFILE)},
    ("patch", "/api/v1/profiles/{id}/"): {
        "request": {"traits": {"plan": "platinum"}},
        "response": ("200", {"changed": ["traits.plan"], "profile": PROFILE}),
    },
    ("post", "/api/v1/profiles/merge/"): {
        "request": {"profile_ids": [PROFILE["id"], "a1b2c3"], "reason": "Same e-mail"}
    },
    ("post", "/api/v1/sources/"): {"request": SOURCE, "response": ("201", SOURCE)},
    ("post", "/api/v1/segments/"): {
        "request": {
            "name": "Frequent visitors",
            "condition": "profile@stats.visits > 5",
            "kind": "live",
        }
    },
    ("post", "/api/v1/segments/dry-run/"): {
        "request": {"condition": 'profile@traits.plan == "gold"'},
        "response": (
            "200",
            {
                "matched": 1204,
                "evaluated": 58211,
                "total": 58211,
                "sample": False,
                "text": "Matches 1,204 of 58,211 profiles.",
            },
        ),
    },
    ("post", "/api/v1/rules/"): {
        "request": {
            "name": "Purchases to the loyalty workflow",
            "event_type": "purchase",
            "source": None,
            "workflow": "0b9d6c1e-1111-4c6e-9a51-0c0de1f0a9b7",
            "enabled": True,
        }
    },
    ("post", "/api/v1/workflows/{id}/deploy/"): {
        "request": {"revision": 4},
        "response": ("200", {"version": 2, "deployed_at": "2026-12-03T08:00:00Z"}),
    },
    ("post", "/api/v1/deliveries/retry/"): {
        "request": {"delivery_ids": ["7c4f0a2e-3b1d-4e5f-8a9b-0c1d2e3f4a5b"]},
        "response": ("200", {"requeued": 1, "merged": 0, "not_failed": 0}),
    },
    ("post", "/api/v1/events/revalidate/"): {
        "request": {"event_ids": ["order-1001"]},
        "response": ("200", {"released": 1, "still_invalid": 0}),
    },
    ("post", "/api/v1/event-types/{event_type}/reshaping/"): {
        "request": RESHAPING,
        "response": ("201", {"id": 3, **RESHAPING}),
    },
    ("post", "/api/v1/event-types/{event_type}/reshaping/preview/"): {
        "request": {"event_id": "order-1001", "reshaping": RESHAPING},
        "response": (
            "200",
            {
                "event_id": "order-1001",
                "reshaped_by": "Shop items to product",
                "message": "Reshaped by 'Shop items to product'.",
                "as_stored": {"properties": {"sku": "A-1", "price": 19.99}, "context": {}},
                "reshaped": {
                    "properties": {"product": {"id": "A-1", "price": 19.99}},
                    "context": {},
                    "session_context": {"campaign": "winter-sale"},
                },
            },
        ),
    },
    ("post", "/api/v1/event-types/{event_type}/indexed-properties/"): {
        "request": INDEXED_PROPERTY,
        "response": ("201", {"id": 7, **INDEXED_PROPERTY}),
    },
    ("post", "/api/v1/event-types/{event_type}/indexed-properties/reindex/"): {
        "response": ("202", REINDEX_JOB)
    },
}
