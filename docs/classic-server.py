# The classic example as the socket-programming tutorials write it, with its backlog and a slow
# handler as arguments, for "See it yourself: three terminals" in docs/lab.md:
#   python3 docs/classic-server.py [PORT=9999] [BACKLOG=5] [SECONDS_PER_CLIENT=0]
import socket, sys, time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
backlog = int(sys.argv[2]) if len(sys.argv) > 2 else 5
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(backlog)
while True:
    c, addr = s.accept()
    print("Got a connection from %s" % str(addr), flush=True)
    time.sleep(delay)  # a slow handler: meanwhile the other clients wait in the kernel's queue
    c.send((time.ctime(time.time()) + "\r\n").encode("ascii"))
    c.close()
