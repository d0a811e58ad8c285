-- wrk script: AuthZEN access evaluations (POST /access/v1/evaluation, or with MODE=batch
-- /access/v1/evaluations) in the todo scenario of examples/authzen-interop: a todo user asks
-- to read, create, update or delete a todo whose owner (`ownerID`) is one of the todo users.
-- env: KEY (the PEP key, sent raw in Authorization as the interop harness does),
--      MODE: pool (default): todo ids drawn from POOL (1000) ids; subject, action, id and owner
--              cycle so that no request repeats within POOL * 100 requests;
--            fresh: every request names a todo id never sent before (RUN, default the clock,
--              keeps ids of successive runs apart);
--            hot: HOT_SET (16) requests, repeated;
--            batch: BATCH (100) fresh items (todo ids never sent before) per
--              /access/v1/evaluations request;
--            batch-pool: the same with todo ids from the POOL ids;
--            introspect: not a decision: RFC 7662 introspection of one hot access token (TOKEN),
--              the caller authenticated with AUTH (an Authorization header value), to measure
--              the HTTP path a hot decision shares with it, side by side.
-- A response is an error unless it is a 200 carrying one "decision" (BATCH of them for a batch).
-- The summary line is run.sh's, plus the share of allowed decisions:
--   rps … p50_ms … p99_ms … errors … allowed_pct …
-- usage: KEY=... MODE=pool wrk -s bench/authzen-eval.lua -t1 -c64 -d10s http://127.0.0.1:PORT
wrk.method = 'POST'
wrk.headers['Content-Type'] = 'application/json'
wrk.headers['Authorization'] = os.getenv('KEY')

-- The todo users of examples/authzen-interop/entities.json (Rick is an admin and evil genius,
-- Morty and Summer editors, Beth and Jerry viewers).
local users = {
  { id = 'CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email = 'rick@the-citadel.com' },
  { id = 'CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email = 'morty@the-citadel.com' },
  { id = 'CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email = 'summer@the-smiths.com' },
  { id = 'CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email = 'beth@the-smiths.com' },
  { id = 'CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs', email = 'jerry@the-smiths.com' },
}
local actions = { 'can_read_todos', 'can_create_todo', 'can_update_todo', 'can_delete_todo' }

local mode = os.getenv('MODE') or 'pool'
local pool = tonumber(os.getenv('POOL') or '') or 1000
local hot_set = tonumber(os.getenv('HOT_SET') or '') or 16
local batch = tonumber(os.getenv('BATCH') or '') or 100
local run = os.getenv('RUN') or tostring(os.time())
assert(mode == 'pool' or mode == 'fresh' or mode == 'hot' or mode == 'batch' or mode == 'batch-pool'
  or mode == 'introspect', 'MODE: pool, fresh, hot, batch, batch-pool or introspect')

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set('tid', #threads)
end

local function body(u, a, o, id)
  return string.format(
    '{"subject":{"type":"user","id":"%s"},"action":{"name":"%s"},' ..
      '"resource":{"type":"todo","id":"%s","properties":{"ownerID":"%s"}},"context":{}}',
    users[u % 5 + 1].id, actions[a % 4 + 1], id, users[o % 5 + 1].email)
end

-- The n-th combination: todo id, then subject, then action, then owner vary, so n and n + k
-- differ for every k below POOL * 100.
local function item(n, id)
  return body(math.floor(n / pool), math.floor(n / (pool * 5)), math.floor(n / (pool * 20)), id)
end

local n = 0
local prefix
local hot = {}
sent, bad, allowed, decisions = 0, 0, 0, 0
function init(args)
  prefix = string.format('%s-%d', run, tid or 1)
  if mode == 'introspect' then
    hot[1] = wrk.format('POST', '/introspect', {
      ['Content-Type'] = 'application/x-www-form-urlencoded',
      ['Authorization'] = assert(os.getenv('AUTH'), 'AUTH is not set'),
    }, 'token=' .. assert(os.getenv('TOKEN'), 'TOKEN is not set'))
  elseif mode == 'hot' then
    for i = 0, hot_set - 1 do
      -- Spread over subjects, actions and owners too.
      hot[#hot + 1] = wrk.format(nil, '/access/v1/evaluation', nil, body(i, i + math.floor(i / 5), math.floor(i / 2), 'todo-' .. i))
    end
  end
end

function request()
  n = n + 1
  sent = sent + 1
  if mode == 'hot' or mode == 'introspect' then
    return hot[(n % #hot) + 1]
  elseif mode == 'pool' then
    return wrk.format(nil, '/access/v1/evaluation', nil, item(n, 'todo-' .. (n % pool)))
  elseif mode == 'fresh' then
    return wrk.format(nil, '/access/v1/evaluation', nil, item(n, prefix .. '-' .. n))
  end
  local items = {}
  for i = 1, batch do
    local k = (n - 1) * batch + i
    items[i] = item(k, mode == 'batch' and (prefix .. '-' .. k) or ('todo-' .. (k % pool)))
  end
  return wrk.format(nil, '/access/v1/evaluations', nil, '{"evaluations":[' .. table.concat(items, ',') .. ']}')
end

local want = (mode == 'batch' or mode == 'batch-pool') and batch or 1
function response(status, headers, body)
  local count, yes = 0, 0
  if mode == 'introspect' then
    -- An active token counts as one allowed answer.
    if status == 200 and string.find(body, '"active":true', 1, true) then count, yes = 1, 1 end
  elseif status == 200 then
    for _ in string.gmatch(body, '"decision":') do count = count + 1 end
    for _ in string.gmatch(body, '"decision":true') do yes = yes + 1 end
  end
  if count ~= want then
    bad = bad + 1
    if bad <= 3 then io.stderr:write('bad answer: ', status, ' ', body:sub(1, 300), '\n') end
  end
  decisions = decisions + count
  allowed = allowed + yes
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = e.connect + e.read + e.write + e.timeout
  local d, y = 0, 0
  for _, t in ipairs(threads) do
    n = n + (t:get('bad') or 0)
    d = d + (t:get('decisions') or 0)
    y = y + (t:get('allowed') or 0)
  end
  io.write(string.format('rps %.0f p50_ms %.2f p99_ms %.2f errors %d allowed_pct %.0f mean_ms %.3f\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, n,
    d > 0 and 100 * y / d or 0, latency.mean / 1000))
end
