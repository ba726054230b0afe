# Precompiled headers (-DSMPPD_PCH=ON) for the targets whose sources spend
# most of their compile time parsing the same third-party headers: Boost.Asio
# and Beast, nlohmann/json, GoogleTest. scripts/test.sh turns them on. Off by
# default: ccache does not cache compiles that use a precompiled header
# unless told to be sloppy about it, and a build without them checks that
# every source includes what it uses.
option(SMPPD_PCH "Precompile the heavy third-party headers" OFF)

# smppd_precompile(TARGET HEADER...): HEADER as <path>, as #include has it.
function(smppd_precompile target)
  if(SMPPD_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
