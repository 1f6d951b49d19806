"""A local git server over smart HTTP (git http-backend as CGI, every path under ROOT): the stand-in
for GitHub that actions/checkout fetches the hub from under act (`make workflows` sets the
repository variable TACHYON_GITHUB_SERVER_URL to it; actions/checkout's github-server-url input).
Read-only: git http-backend refuses pushes without REMOTE_USER.

    python3 githttp.py ROOT READY_FILE    serves ROOT/<owner>/<repo> on 127.0.0.1 (a free port),
                                          writes its URL to READY_FILE
"""
import http.server
import os
import subprocess
import sys


class GitHandler(http.server.BaseHTTPRequestHandler):
    root = "."

    def _backend(self):
        path, query = (self.path.split("?", 1) + [""])[:2]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = dict(os.environ, GIT_PROJECT_ROOT=self.root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_ADDR="127.0.0.1",
                   CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)),
                   GIT_PROTOCOL=self.headers.get("Git-Protocol", ""),
                   HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""))
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False).stdout
        head, rest = (out.split(b"\r\n\r\n", 1) + [b""])[:2]
        status, headers = 200, []
        for line in head.split(b"\r\n"):
            key, value = (line.decode("latin-1").split(":", 1) + [""])[:2]
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)

    do_GET = do_POST = _backend


def main(argv):
    GitHandler.root = os.path.abspath(argv[0])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitHandler)
    with open(argv[1], "w", encoding="utf-8") as handle:
        handle.write("http://127.0.0.1:%d" % server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
