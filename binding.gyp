{
  "targets": [
    {
      "target_name": "greenloop_core",
      "sources": [
        "csrc/binding.cc",
        "csrc/handoff.cc",
        "csrc/owner_thread.cc",
        "csrc/watchdog.cc"
      ],
      "cflags_cc": ["-std=c++20", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "ldflags": [
        "-Wl,-z,nodelete"
      ],
      "conditions": [
        ["OS=='linux' and target_arch=='x64'", {
          "sources": ["csrc/switch_x86_64_linux.S", "csrc/switch_x86_64_linux_setup.cc"],
          "defines": ["GREENLOOP_USERSPACE_SWITCH=1"]
        }, {
          "sources": ["csrc/switch_unavailable.cc"]
        }]
      ]
    }
  ]
}
