-- Soak mix for python -m bench.soak (bench/soak/): what clients of the service do, in
-- realistic shares.
--
--   wrk -t2 -c16 -d60s -s bench/wrk/soak.lua http://127.0.0.1:PORT -- <api key> <run tag>
--
-- Each request is drawn from MIX. Operations that need data (a record or user id, a next
-- page, a finished Idempotency-Key) take it from what earlier answers of this thread
-- returned, and fall back to the operation that creates it while there is none yet. Every
-- valid request must get 2xx; "invalid_body" must get 400 and "unknown_id" 404.
--
-- wrk runs one Lua state per thread and response() does not say which request it answers,
-- so the counters are per thread, summed in done() through the thread objects setup() kept,
-- and the answers are recognised by their content (see response()). done() prints one line
-- "SOAK-RESULT {json}" that bench/soak/load.py reads.

local MIX = {
  { "hello", 14 },           -- GET /api/hello (anonymous)
  { "process", 20 },         -- POST /api/process_data, varying body, no key
  { "process_keyed", 6 },    -- the same with a new Idempotency-Key
  { "process_replay", 3 },   -- a finished key and its body again: replayed, not redone
  { "list_records", 9 },     -- GET /api/records?limit=N, some filtered by user_id
  { "next_page", 4 },        -- the Link of an earlier page (cursor)
  { "get_record", 12 },      -- GET /api/records/{id} of a record this thread created
  { "create_user", 6 },      -- POST /api/users, unique email
  { "get_user", 10 },        -- GET /api/users/{id}
  { "patch_user", 7 },       -- PATCH /api/users/{id} (merge patch)
  { "invalid_body", 5 },     -- expect 400
  { "unknown_id", 4 },       -- expect 404
}
local EXPECTED = { invalid_body = 400, unknown_id = 404 } -- every other kind: 2xx

-- An id no run reaches (records and users are per client, ids start at 1).
local UNKNOWN_ID_BASE = 2000000000
-- Idempotent bodies carry item_id = id * KEYED_ITEM_STEP + sequence: unique per thread, and
-- above the item ids of the plain bodies, so an answer's result names its key.
local KEYED_ITEM_STEP = 100000000

local INVALID_BODIES = {
  { "/api/process_data", "application/json", '{"user_id": 1, "item_id": 7, "quantity": 0}' },
  { "/api/process_data", "application/json", '{"user_id": 1, "item_id": 7}' },
  { "/api/process_data", "application/json", '{"user_id": 1, "item_id": 7, "quantity": "3"}' },
  { "/api/process_data", "application/json",
    '{"user_id": 1, "item_id": 7, "quantity": 3, "note": "x"}' },
  { "/api/process_data", "application/json", '{"user_id": 1, "item_id": ' },
  { "/api/users", "application/json", '{"name": "", "email": "blank@example.com"}' },
  { "/api/users", "application/json", '{"name": "Old", "email": "old@example.com", "age": 151}' },
}

-- Main state: the threads, for done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Thread state. Globals (not locals) where done() reads them with thread:get.
statuses = {}  -- status code -> responses
issued = {}    -- kind -> requests sent
replayed = 0   -- answers marked Idempotent-Replayed: true

local api_key, run_tag
local total_weight = 0
local sequence = 0
local records, users, pages, finished_keys
local pending_keys = {} -- item_id (as a string) -> {key, body}, until its answer arrives

-- A bounded list of recent values: the load runs for minutes, wrk's memory must not grow.
local function ring(size)
  return { items = {}, size = size, count = 0 }
end

local function push(r, value)
  r.items[r.count % r.size + 1] = value
  r.count = r.count + 1
end

local function pick(r)
  if r.count == 0 then
    return nil
  end
  return r.items[math.random(math.min(r.count, r.size))]
end

function init(args)
  api_key = args[1]
  run_tag = args[2] or "soak"
  math.randomseed(os.time() * 100 + id)
  for _, entry in ipairs(MIX) do
    total_weight = total_weight + entry[2]
    issued[entry[1]] = 0
  end
  records = ring(2000)
  users = ring(2000)
  pages = ring(100)
  finished_keys = ring(500)
end

local function authed(content_type, idempotency_key)
  local headers = { ["X-API-Key"] = api_key }
  if content_type then
    headers["Content-Type"] = content_type
  end
  if idempotency_key then
    headers["Idempotency-Key"] = idempotency_key
  end
  return headers
end

local function next_sequence()
  sequence = sequence + 1
  return sequence
end

local function process_body(item_id)
  return string.format('{"user_id": %d, "item_id": %d, "quantity": %d}',
    math.random(1, 50), item_id, math.random(1, 1000))
end

local function draw()
  local roll = math.random(total_weight)
  for _, entry in ipairs(MIX) do
    roll = roll - entry[2]
    if roll <= 0 then
      return entry[1]
    end
  end
end

-- The request for `kind`, or nil when it needs data this thread does not hold yet.
local BUILD = {}

BUILD.hello = function()
  return wrk.format("GET", "/api/hello", {})
end

BUILD.process = function()
  local body = process_body(math.random(1, 100000))
  return wrk.format("POST", "/api/process_data", authed("application/json"), body)
end

BUILD.process_keyed = function()
  local n = next_sequence()
  local item_id = id * KEYED_ITEM_STEP + n
  local key = string.format("%s-%d-%d", run_tag, id, n)
  local body = process_body(item_id)
  pending_keys[tostring(item_id)] = { key, body }
  return wrk.format("POST", "/api/process_data", authed("application/json", key), body)
end

BUILD.process_replay = function()
  local done = pick(finished_keys)
  if not done then
    return nil
  end
  return wrk.format("POST", "/api/process_data", authed("application/json", done[1]), done[2])
end

BUILD.list_records = function()
  local query = string.format("limit=%d", math.random(5, 50))
  if math.random(3) == 1 then
    query = query .. string.format("&user_id=%d", math.random(1, 50))
  end
  return wrk.format("GET", "/api/records?" .. query, authed())
end

BUILD.next_page = function()
  local path = pick(pages)
  if not path then
    return nil
  end
  return wrk.format("GET", path, authed())
end

BUILD.get_record = function()
  local record_id = pick(records)
  if not record_id then
    return nil
  end
  return wrk.format("GET", "/api/records/" .. record_id, authed())
end

BUILD.create_user = function()
  local n = next_sequence()
  local body = string.format(
    '{"name": "Soak User %d", "email": "soak-%s-%d-%d@example.com", "age": %d}',
    n, run_tag, id, n, math.random(18, 90))
  return wrk.format("POST", "/api/users", authed("application/json"), body)
end

BUILD.get_user = function()
  local user_id = pick(users)
  if not user_id then
    return nil
  end
  return wrk.format("GET", "/api/users/" .. user_id, authed())
end

local PATCHES = { '{"age": %d}', '{"name": "Renamed %d"}', '{"age": null}' }

BUILD.patch_user = function()
  local user_id = pick(users)
  if not user_id then
    return nil
  end
  local body = string.format(PATCHES[math.random(#PATCHES)], math.random(18, 90))
  return wrk.format("PATCH", "/api/users/" .. user_id,
    authed("application/merge-patch+json"), body)
end

BUILD.invalid_body = function()
  local case = INVALID_BODIES[math.random(#INVALID_BODIES)]
  return wrk.format("POST", case[1], authed(case[2]), case[3])
end

BUILD.unknown_id = function()
  local missing = UNKNOWN_ID_BASE + math.random(0, 100000000)
  local choice = math.random(3)
  if choice == 1 then
    return wrk.format("GET", "/api/records/" .. missing, authed())
  elseif choice == 2 then
    return wrk.format("GET", "/api/users/" .. missing, authed())
  end
  return wrk.format("PATCH", "/api/users/" .. missing,
    authed("application/merge-patch+json"), '{"age": 40}')
end

-- What to send instead while a kind has no data to work on.
local FALLBACK = {
  process_replay = "process_keyed",
  next_page = "list_records",
  get_record = "process",
  get_user = "create_user",
  patch_user = "create_user",
}

function request()
  local kind = draw()
  local built = BUILD[kind]()
  if not built then
    kind = FALLBACK[kind]
    built = BUILD[kind]()
  end
  issued[kind] = issued[kind] + 1
  return built
end

local function header(headers, name)
  return headers[name] or headers[string.lower(name)]
end

-- Answers are told apart by what only they contain: "record_id" is in process_data's
-- answers only, 201 comes only from POST /api/users, a Link header only from lists.
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if header(headers, "Idempotent-Replayed") == "true" then
    replayed = replayed + 1
  end
  if status == 200 then
    local record_id = string.match(body, '"record_id"%s*:%s*(%d+)')
    if record_id then
      push(records, record_id)
      local item_id = string.match(body, '"item_id"%s*:%s*(%d+)')
      local waiting = item_id and pending_keys[item_id]
      if waiting then
        -- Its first answer is in: from now on a repeat is a replay, never a 409.
        pending_keys[item_id] = nil
        push(finished_keys, waiting)
      end
    end
    local link = header(headers, "Link")
    if link then
      local next_path = string.match(link, "<([^>]+)>")
      if next_path then
        push(pages, next_path)
      end
    end
  elseif status == 201 then
    local user_id = string.match(body, '"id"%s*:%s*(%d+)')
    if user_id then
      push(users, user_id)
    end
  end
end

local function json_counts(counts)
  local parts = {}
  for key, value in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', tostring(key), value))
  end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function add_into(total, counts)
  for key, value in pairs(counts) do
    total[key] = (total[key] or 0) + value
  end
end

function done(summary, latency, requests)
  local all_statuses, all_issued, all_replayed = {}, {}, 0
  for _, thread in ipairs(threads) do
    add_into(all_statuses, thread:get("statuses"))
    add_into(all_issued, thread:get("issued"))
    all_replayed = all_replayed + thread:get("replayed")
  end
  local expected = {}
  for kind, status in pairs(EXPECTED) do
    expected[kind] = status
  end
  local errors = summary.errors
  io.write(string.format(
    'SOAK-RESULT {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
      .. '"statuses": %s, "issued": %s, "replayed": %d, "expected_status": %s}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean,
    json_counts(all_statuses), json_counts(all_issued), all_replayed, json_counts(expected)))
end
