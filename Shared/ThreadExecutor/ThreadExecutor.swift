#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A serial executor backed by one dedicated OS thread.
///
/// Blocking C libraries (rabbitmq-c, libpq, libcurl) must never run on Swift's cooperative
/// pool: it has one thread per core, so a single blocking call can stall every task. An actor
/// whose `unownedExecutor` is a `ThreadExecutor` runs all of its methods on that one thread,
/// which also satisfies rabbitmq-c's rule that a connection is used from one thread only.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    // Guarded by `mutex`.
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var thread: pthread_t?
    public let name: String

    public init(name: String) {
        self.name = name
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        // 512 KiB is plenty for C client calls and keeps idle services small.
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        var handle = pthread_t()
        let result = pthread_create(&handle, &attributes, { raw in
            #if canImport(Darwin)
            let executor = Unmanaged<ThreadExecutor>.fromOpaque(raw).takeRetainedValue()
            #else
            let executor = Unmanaged<ThreadExecutor>.fromOpaque(raw!).takeRetainedValue()
            #endif
            executor.runLoop()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        precondition(result == 0, "pthread_create failed: \(result)")
        thread = handle
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        jobs.append(unowned)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish the jobs already queued, then end. Call it after the last use of
    /// the actor it backs (for example from the actor's `close()`): later jobs would never run.
    public func shutdown() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty && !stopping {
                pthread_cond_wait(&condition, &mutex)
            }
            if jobs.isEmpty {
                pthread_mutex_unlock(&mutex)
                return
            }
            var batch: [UnownedJob] = []
            swap(&batch, &jobs)
            pthread_mutex_unlock(&mutex)
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
        }
    }
}
