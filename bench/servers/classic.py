# The classic example, as the socket-programming tutorials write it: listen(5), one client at a time.
import socket, sys, time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
while True:
    c, addr = s.accept()
    print("Got a connection from %s" % str(addr))
    c.send((time.ctime(time.time()) + "\r\n").encode("ascii"))
    c.close()
