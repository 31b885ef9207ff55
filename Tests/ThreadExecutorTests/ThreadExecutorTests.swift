import Testing
import ThreadExecutor
#if canImport(Glibc)
import Glibc
#endif

actor Pinned {
    nonisolated let executor = ThreadExecutor(name: "pinned-test")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    var count = 0

    func threadID() -> pthread_t { pthread_self() }
    func increment() { count += 1 }
}

@Suite("ThreadExecutor")
struct ThreadExecutorTests {
    @Test("every method of an actor on a ThreadExecutor runs on the same dedicated thread")
    func sameThread() async {
        let actor = Pinned()
        let first = await actor.threadID()
        for _ in 0..<50 {
            #expect(pthread_equal(await actor.threadID(), first) != 0)
        }
        // Not a thread of the cooperative pool: the test's own task runs elsewhere.
        #expect(pthread_equal(pthread_self(), first) == 0)
    }

    @Test("concurrent callers are serialised without losing an update")
    func serialised() async {
        let actor = Pinned()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<1000 { group.addTask { await actor.increment() } }
        }
        #expect(await actor.count == 1000)
    }

    @Test("a mailbox wakes a sleeping poll at once when a command is posted")
    func mailboxWakes() async {
        let mailbox = Mailbox<Int>()
        let posted = Task.detached {
            try? await Task.sleep(for: .milliseconds(50))
            mailbox.post(7)
        }
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        // A timeout far beyond any stall of a busy machine (one of 4 s was seen in `make test`),
        // so that waking well before it can only be the post's doing.
        mailbox.wait(socket: nil, timeoutMilliseconds: 60_000)
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        #expect(mailbox.drain() == [7])
        #expect(end.tv_sec - start.tv_sec < 30, "woke by the post, not by the 60 s timeout")
        await posted.value
    }
}
