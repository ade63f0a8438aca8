{
  "targets": [
    {
      "target_name": "orig_dst",
      "sources": ["orig_dst.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
