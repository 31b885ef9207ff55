#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts `body` on a new OS thread of its own, for loops that block in C calls (poll, socket
/// reads) and so must stay off Swift's cooperative pool.
public func spawnDedicatedThread(name: String, stackSize: Int = 512 * 1024, _ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body))
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, stackSize)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var handle = pthread_t()
    let result = pthread_create(&handle, &attributes, { raw in
        #if canImport(Darwin)
        let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
        #else
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        #endif
        box.body()
        return nil
    }, box.toOpaque())
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
}

/// A queue of commands for a loop thread that sleeps in `poll`: posting a command also writes to
/// a pipe the loop polls, so it wakes at once instead of at its next timeout.
public final class Mailbox<Command: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var commands: [Command] = []
    private let readFD: Int32
    private let writeFD: Int32

    public init() {
        pthread_mutex_init(&mutex, nil)
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
        pthread_mutex_destroy(&mutex)
    }

    public func post(_ command: Command) {
        pthread_mutex_lock(&mutex)
        let wasEmpty = commands.isEmpty
        commands.append(command)
        pthread_mutex_unlock(&mutex)
        if wasEmpty {
            var byte: UInt8 = 1
            _ = write(writeFD, &byte, 1)
        }
    }

    public func drain() -> [Command] {
        var scratch = [UInt8](repeating: 0, count: 64)
        while read(readFD, &scratch, scratch.count) > 0 {}
        pthread_mutex_lock(&mutex)
        var taken: [Command] = []
        swap(&taken, &commands)
        pthread_mutex_unlock(&mutex)
        return taken
    }

    /// Sleeps until a command is posted, `socket` (if any) is readable, or `timeoutMilliseconds`
    /// pass. Returns whether the socket is readable (or failed, which the next read reports).
    @discardableResult
    public func wait(socket: Int32?, timeoutMilliseconds: Int32) -> Bool {
        var fds = [pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)]
        if let socket { fds.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        guard ready > 0, fds.count > 1 else { return false }
        return fds[1].revents != 0
    }
}
