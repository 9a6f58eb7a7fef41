-- bench/store/run.sh: wrk requests for the store app, cycling over prepared
-- shoppers (STORE_COOKIES names the Lua file prepare.mjs wrote). Each
-- shopper's requests carry their cookies, so with affinity on they are pinned
-- to the instance that holds their in-memory session. The mix, one third
-- each: open an album (no session), add it to the cart (session load +
-- touch, one write to the shared database), open the cart (session load +
-- touch, one read).
dofile(os.getenv("STORE_COOKIES"))
local i = 0
request = function()
  i = i + 1
  local cookie = cookies[(i % #cookies) + 1]
  local album = tostring((i % 12) + 1)
  local k = i % 3
  if k == 0 then
    return wrk.format("GET", "/Store/Details/" .. album, { Cookie = cookie })
  elseif k == 1 then
    return wrk.format("POST", "/ShoppingCart/AddToCart/" .. album,
                      { Cookie = cookie, ["Content-Length"] = "0" })
  end
  return wrk.format("GET", "/ShoppingCart", { Cookie = cookie })
end
