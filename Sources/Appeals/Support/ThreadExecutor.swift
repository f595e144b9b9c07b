import Dispatch
import Foundation
import Synchronization

/// A task executor with one thread of its own, for tasks that make blocking C calls (libcurl, SQLite):
/// a task that prefers it (`addTask(executorPreference:)`) runs there, blocking calls included, and
/// never holds up a thread of the cooperative pool.
public final class ThreadExecutor: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var head = 0
        var stopping = false
    }

    private let queue = Mutex(Queue())
    private let ready = DispatchSemaphore(value: 0)

    /// Starts the thread; it runs until ``shutdown()``.
    public init(name: String) {
        let thread = Thread { [self] in work() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    /// Ends the thread once the jobs already enqueued have run. Call it when no task prefers this executor
    /// any more.
    public func shutdown() {
        queue.withLock { $0.stopping = true }
        ready.signal()
    }

    private func work() {
        let me = asUnownedTaskExecutor()
        while true {
            ready.wait()
            let next: UnownedJob?? = queue.withLock { state in
                if state.head < state.jobs.count {
                    defer {
                        state.head += 1
                        if state.head == state.jobs.count {
                            state.jobs.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                    }
                    return .some(state.jobs[state.head])
                }
                return state.stopping ? .none : .some(nil)
            }
            switch next {
            case .none: return
            case .some(nil): continue
            case .some(let job?): job.runSynchronously(on: me)
            }
        }
    }

    /// Runs `body`, which blocks, on a thread of its own, and waits for it without holding up the cooperative pool.
    public static func run<T: Sendable, Failure: Error>(name: String, _ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        let executor = ThreadExecutor(name: name)
        defer { executor.shutdown() }
        let result = await withTaskExecutorPreference(executor) { () async -> Result<T, Failure> in
            do throws(Failure) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
