{
  "targets": [
    {
      "target_name": "nrdot_native",
      "sources": [
        "native/addon.cc",
        "native/scanner.cc",
        "native/scanner_files.cc",
        "native/parse.cc",
        "native/fd_budget.cc",
        "native/lock.cc",
        "native/sock_diag.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra"],
      "cflags_cc!": ["-std=gnu++17"]
    }
  ]
}
