# cmake -DSRC=... -DDST=... -P stage_bundle.cmake: copies the browser bundle
# when npm has installed it; otherwise says what to run.
if(EXISTS "${SRC}")
  get_filename_component(dir "${DST}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(COPY_FILE "${SRC}" "${DST}" ONLY_IF_DIFFERENT)
else()
  message(WARNING "signalr-chat: ${SRC} is missing; run `npm ci --prefix tests/realtime` "
                  "(scripts/install-deps.sh does) and build again")
endif()
