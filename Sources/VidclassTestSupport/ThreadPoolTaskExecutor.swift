import Foundation

/// A task executor with a fixed number of threads of its own, for tests that check that async code
/// never blocks the threads it runs on: run work with `withTaskExecutorPreference(executor)`, and
/// if any of it waits on a lock, queue or semaphore, the executor's few threads are held and
/// everything else on it stalls.
public final class ThreadPoolTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    /// The executor's thread names, `name-0`, `name-1`, ...
    public let threadNames: [String]

    public init(threads: Int, name: String = "test-executor") {
        threadNames = (0..<threads).map { "\(name)-\($0)" }
        for threadName in threadNames {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = threadName
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads end once the queued jobs have run.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private var marker: String { "vidclass.test-executor.\(ObjectIdentifier(self).hashValue)" }

    /// Whether the calling code runs on one of this executor's threads.
    public func isCurrentThread() -> Bool {
        Thread.current.threadDictionary[marker] != nil
    }

    private func work() {
        Thread.current.threadDictionary[marker] = true
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
