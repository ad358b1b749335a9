"""Fixed SQL texts on the hottest read paths, prepared once per connection.

Django sends every query as new text for PostgreSQL to parse and plan; for the
short reads that an API client repeats thousands of times, planning costs more
than running them. ``rows`` runs a query whose text does not change from call
to call as a server-side prepared statement (psycopg prepares it on its first
use on a connection and reuses the plan after), through Django's cursor
wrappers, so query logging, ``CaptureQueriesContext`` and execute wrappers see
it like any other query. On other databases (the demo's SQLite) it is an
ordinary query.

Behind PgBouncer in transaction mode, prepared statements need PgBouncer 1.21
or later with ``max_prepared_statements`` set; or set ``DB_PREPARED_STATEMENTS``
to 0 to send these queries unprepared.

``in_list`` keeps texts that match a list of values fixed: on PostgreSQL two
texts whatever the length, ``= %s`` for one value and ``= ANY(%s)`` with the
list as one array parameter for more (short to send and parse); elsewhere an
``IN`` list padded to the next power of two by repeating its last value (for up
to 1,024 values), so a page of results takes one of eleven texts rather than
one per length. One value has its own text because PostgreSQL estimates an
array parameter at 10 elements in a prepared statement's generic plan: for a
one-element array the custom plan always looks cheaper, so the statement was
planned again on every execution (0.6 ms of planning for a read of 0.05 ms).

``instance`` turns the columns of such a row into a model instance the way the
ORM would (the backend's and the fields' converters, e.g. JSON and SQLite's
dates); the fields it was not given load on access, as with ``only()``.
``record`` converts them the same way into a plain ``Record``: for pages of
answers, which read a few attributes of hundreds of rows and would otherwise
spend most of their time in the ORM's ``Model.__init__`` (signals, descriptors).

``insert`` and ``insert_many`` write new rows the way ``save()`` and
``bulk_create`` would (each field's ``pre_save`` and ``get_db_prep_save``, so
``auto_now`` stamps, JSON and foreign keys are what the ORM writes), with one
fixed text per model, prepared: the hot writes insert several rows each, and
the ORM compiles a new statement for every one of them. A model with
``pre_save``/``post_save`` receivers or a parent model goes through ``save()``.
"""

from functools import cache
from types import SimpleNamespace

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

_PADDED_UP_TO = 1024


def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        logged = False

        def execute(self, query, params=None, *, prepare=None, binary=None):
            super().execute(query, params, prepare=True, binary=binary)
            if self.logged:
                # psycopg keeps the query it sent only when it was sent
                # unprepared; Django's query log reads it from there.
                self._query = self._convert_query(query, params)
            return self

    return PreparedCursor


_PREPARED_CURSOR = None


def _cursor():
    global _PREPARED_CURSOR
    # The connection itself, not django.db.connection's proxy, which looks the
    # connection up again (thread and task locals) on every attribute.
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        return wrapper.cursor()
    if _PREPARED_CURSOR is None:
        _PREPARED_CURSOR = _prepared_cursor_class()
    # What Django's own cursor does first: the connection health check (once
    # per request), (re)connecting, the thread check; the prepared cursor then
    # shares the connection.
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    wrapper.validate_thread_sharing()
    with wrapper.wrap_database_errors:
        raw = _PREPARED_CURSOR(wrapper.connection)
    if wrapper.queries_logged:
        raw.logged = True
        return wrapper.make_debug_cursor(raw)
    return wrapper.make_cursor(raw)


def for_update() -> str:
    """`` FOR UPDATE`` where the database locks rows (PostgreSQL); nothing on
    the demo's SQLite, which locks the whole database for a writing
    transaction anyway."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def rows(sql: str, params: list | tuple = ()) -> list[tuple]:
    """All rows of one query with a fixed text (see the module's note)."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: list | tuple = ()) -> int:
    """Run one statement with a fixed text that returns no rows (an INSERT,
    UPDATE or DELETE); the number of rows it changed."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def in_list(column: str, values: list) -> tuple[str, list]:
    """``column IN (…)`` for the values, padded to few distinct texts; never
    empty (no values match nothing)."""
    if not values:
        return "1 = 0", []
    if connection.vendor == "postgresql":
        if len(values) == 1:
            return f"{column} = %s", [next(iter(values))]
        return f"{column} = ANY(%s)", [list(values)]
    return _padded_in_list(column, values)


def _padded_in_list(column: str, values: list) -> tuple[str, list]:
    values = list(values)
    if len(values) <= _PADDED_UP_TO:
        size = 1 << (len(values) - 1).bit_length()
        values += [values[-1]] * (size - len(values))
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


@cache
def _reading(model: type[Model], attnames: tuple[str, ...], vendor: str):
    """Per column, in the model's field order (which ``from_db`` expects):
    its position in the row, its column expression and its converters."""
    position = {
        field.attname: index for index, field in enumerate(model._meta.concrete_fields)
    }
    result = []
    for index, attname in sorted(
        enumerate(attnames), key=lambda item: position[item[1]]
    ):
        column = model._meta.get_field(attname).get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column)
        functions += column.get_db_converters(connection)
        result.append((index, column, functions))
    names = tuple(attname for attname in sorted(attnames, key=position.__getitem__))
    return names, result


class Record(SimpleNamespace):
    """A row's values by attribute name, as read (nothing to save); ``pk`` is
    its ``id``."""

    @property
    def pk(self):
        return self.id


def record(model: type[Model], attnames: tuple[str, ...], values) -> Record:
    """A ``Record`` of ``model``'s columns from raw values in ``attnames``
    order, converted as ``instance`` converts them."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # once, not once per converter
    names, reading = _reading(model, attnames, wrapper.vendor)
    fields = {}
    for name, (index, column, functions) in zip(names, reading, strict=True):
        value = values[index]
        for function in functions:
            value = function(value, column, wrapper)
        fields[name] = value
    return Record(**fields)


def instance(model: type[Model], attnames: tuple[str, ...], values) -> Model:
    """A ``model`` instance from raw column values, in ``attnames`` order."""
    names, reading = _reading(model, attnames, connection.vendor)
    converted = []
    for index, column, functions in reading:
        value = values[index]
        for function in functions:
            value = function(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


@cache
def _inserted_fields(model: type[Model]) -> tuple:
    return tuple(
        field
        for field in model._meta.local_concrete_fields
        if field is not model._meta.auto_field and not field.generated
    )


@cache
def _insert_sql(model: type[Model], vendor: str) -> str:
    quote = connection.ops.quote_name
    fields = _inserted_fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if model._meta.auto_field is not None:
        sql += f" RETURNING {quote(model._meta.auto_field.column)}"
    return sql


def insert_sql(model: type[Model]) -> str:
    """The fixed ``INSERT`` of a new ``model`` row (``RETURNING`` its
    auto-incremented key), for a statement that inserts it with more."""
    return _insert_sql(model, connection.vendor)


def insert_params(obj: Model) -> list:
    """The parameters of ``insert_sql`` for ``obj``, as ``save()`` prepares
    them (``auto_now`` fields are stamped on ``obj``)."""
    return [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for field in _inserted_fields(type(obj))
    ]


def inserted(obj: Model, pk=None) -> Model:
    """Mark ``obj`` as saved, with the key its insert returned."""
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def saves_through_orm(model: type[Model]) -> bool:
    """Whether new ``model`` rows must go through ``save()``: receivers of
    its save signals, a parent model, or no ``RETURNING`` on this database."""
    return bool(
        model._meta.parents
        or not connection.features.can_return_columns_from_insert
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    )


def insert(obj: Model) -> Model:
    """INSERT a new ``obj`` (what ``obj.save(force_insert=True)`` writes) and
    set its primary key; see the module's note."""
    model = type(obj)
    if saves_through_orm(model):
        obj.save(force_insert=True)
        return obj
    found = rows(insert_sql(model), insert_params(obj))
    return inserted(obj, found[0][0] if model._meta.auto_field is not None else None)


def insert_many(objs: list[Model]) -> None:
    """INSERT new rows of one model in one round trip (psycopg pipelines an
    ``executemany``); their primary keys are not read back."""
    if not objs:
        return
    model = type(objs[0])
    if saves_through_orm(model):
        model.objects.bulk_create(objs)
        return
    sql = insert_sql(model)
    if model._meta.auto_field is not None:
        sql = sql.rsplit(" RETURNING ", 1)[0]
    with connection.cursor() as cursor:
        cursor.executemany(sql, [insert_params(obj) for obj in objs])
    for obj in objs:
        inserted(obj)


def _links(objs) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Per object, (position of the field in its insert, position of the
    earlier object it points to) for each foreign key to an object of ``objs``
    not saved yet."""
    found = []
    for index, obj in enumerate(objs):
        pairs = []
        for position, field in enumerate(_inserted_fields(type(obj))):
            if field.is_relation and field.is_cached(obj):
                target = field.get_cached_value(obj)
                for earlier in range(index):
                    if objs[earlier] is target and target.pk is None:
                        pairs.append((position, earlier))
        found.append(tuple(pairs))
    return tuple(found)


@cache
def _together_sql(models: tuple, links: tuple) -> str:
    quote = connection.ops.quote_name
    members, keys = [], []
    for index, model in enumerate(models):
        fields = _inserted_fields(model)
        linked = dict(links[index])
        values = [
            f"(SELECT {quote(models[linked[position]]._meta.pk.column)} "  # noqa: S608
            f"FROM i{linked[position]})"
            if position in linked
            else "%s"
            for position in range(len(fields))
        ]
        pk = quote(model._meta.pk.column)
        members.append(
            f"i{index} AS (INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(values)}) RETURNING {pk})"
        )
        keys.append(f"(SELECT {pk} FROM i{index})")  # noqa: S608
    return f"WITH {', '.join(members)} SELECT {', '.join(keys)}"


def insert_together(*objs: Model) -> None:
    """INSERT new rows of several models that point at each other (a version,
    its card, the card's first revision) in one statement on PostgreSQL: a
    foreign key to an earlier object of ``objs`` takes the key that object's
    insert returns, and every object gets its key. One round trip instead of
    one per row. Elsewhere, or for a model that saves through the ORM, one
    insert after another."""
    links = _links(objs)
    every_auto = all(type(obj)._meta.auto_field is not None for obj in objs)
    if (
        connection.vendor != "postgresql"
        or not every_auto
        or any(saves_through_orm(type(obj)) for obj in objs)
    ):
        for index, obj in enumerate(objs):
            _point_at_saved(obj, links[index], objs)
            insert(obj)
        return
    params = []
    for index, obj in enumerate(objs):
        linked = dict(links[index])
        params += [
            value
            for position, value in enumerate(insert_params(obj))
            if position not in linked
        ]
    (keys,) = rows(_together_sql(tuple(map(type, objs)), links), params)
    for obj, pk in zip(objs, keys, strict=True):
        inserted(obj, pk)
    for index, obj in enumerate(objs):
        _point_at_saved(obj, links[index], objs)


def _point_at_saved(obj: Model, links, objs) -> None:
    """Set each linked foreign key from the object it points at, now saved
    (through the relation, as save() does, so the object stays cached)."""
    fields = _inserted_fields(type(obj))
    for position, earlier in links:
        setattr(obj, fields[position].name, objs[earlier])
