import threading

from apps.core.caches import process_cached, process_caches_clear


def counting_cache(settings, *, seconds: float = 60, max_entries: int = 10):
    settings.TEST_CACHE_SECONDS = seconds
    loads: list[tuple] = []

    @process_cached(ttl_setting="TEST_CACHE_SECONDS", max_entries=max_entries)
    def square(number: int, *, offset: int = 0) -> int:
        loads.append((number, offset))
        return number * number + offset

    return square, loads


def test_loads_once_per_key_within_the_ttl(settings):
    square, loads = counting_cache(settings)

    assert [square(2), square(2), square(3), square(2, offset=1), square(2, offset=1)] == [
        4,
        4,
        9,
        5,
        5,
    ]
    assert loads == [(2, 0), (3, 0), (2, 1)]
    assert square.__name__ == "square"


def test_an_expired_entry_is_loaded_again(settings):
    square, loads = counting_cache(settings, seconds=0)

    square(2)
    square(2)

    assert loads == [(2, 0), (2, 0)]


def test_clear_empties_one_cache_and_process_caches_clear_all(settings):
    square, square_loads = counting_cache(settings)
    cube, cube_loads = counting_cache(settings)
    square(2)
    cube(2)

    square.cache_clear()
    square(2)
    cube(2)
    assert (len(square_loads), len(cube_loads)) == (2, 1)

    process_caches_clear()
    square(2)
    cube(2)
    assert (len(square_loads), len(cube_loads)) == (3, 2)


def test_a_flood_of_keys_starts_the_cache_over(settings):
    square, loads = counting_cache(settings, max_entries=3)
    for number in range(4):
        square(number)

    square(0)  # dropped when the fourth key came in
    square(3)  # kept

    assert loads == [(0, 0), (1, 0), (2, 0), (3, 0), (0, 0)]


def test_a_load_that_started_before_a_clear_keeps_no_stale_value(settings):
    """The value a slow load read before a change is returned to its caller, but the next
    call after the clear reads the rows again."""
    settings.TEST_CACHE_SECONDS = 60
    row = {"value": "old"}
    loading, cleared = threading.Event(), threading.Event()

    @process_cached(ttl_setting="TEST_CACHE_SECONDS")
    def current() -> str:
        value = row["value"]
        if value == "old":
            loading.set()
            assert cleared.wait(5)
        return value

    results = []
    reader = threading.Thread(target=lambda: results.append(current()))
    reader.start()
    assert loading.wait(5)
    row["value"] = "new"  # a change in this process while the load is in flight ...
    current.cache_clear()  # ... which clears the cache, as the services do
    cleared.set()
    reader.join(5)

    assert results == ["old"]
    assert current() == "new"
