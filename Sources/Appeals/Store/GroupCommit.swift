import Foundation
import GRDB
import Synchronization

/// Writes from many concurrent requests committed together: each caller's work runs in a savepoint of a
/// transaction shared with whatever else is waiting, so that one `fsync` covers them all. A caller whose work
/// throws has only its own savepoint rolled back; the call returns once the shared transaction is committed.
public final class GroupCommit: Sendable {
    private struct Job: Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let done: @Sendable (Result<any Sendable, AppealsError>) -> Void
    }

    private struct State {
        var waiting: [Job] = []
        var draining = false
    }

    private let database: AppDatabase
    private let state = Mutex(State())
    /// SQLite blocks: the transactions run on a thread of their own.
    private let thread = ThreadExecutor(name: "appeal-group-commit")

    public init(database: AppDatabase) {
        self.database = database
    }

    deinit { thread.shutdown() }

    /// Runs `work` in the next shared transaction and returns its result once that transaction is committed.
    public func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws(AppealsError) -> T {
        let result: Result<any Sendable, AppealsError> = await withCheckedContinuation { continuation in
            let job = Job(work: { db in try work(db) }, done: { continuation.resume(returning: $0) })
            let start = state.withLock { state in
                state.waiting.append(job)
                defer { state.draining = true }
                return !state.draining
            }
            if start {
                Task(executorPreference: thread) { self.drain() }
            }
        }
        return try result.get() as! T
    }

    /// Commits what is waiting, batch after batch, until nothing is.
    private func drain() {
        while true {
            let jobs = state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.draining = false }
                return state.waiting
            }
            if jobs.isEmpty { return }
            var results: [Result<any Sendable, AppealsError>] = []
            do throws(AppealsError) {
                try database.write { db in
                    results = []
                    for job in jobs {
                        var outcome: Result<any Sendable, AppealsError> = .failure(.storage("not run"))
                        try db.inSavepoint {
                            do {
                                outcome = .success(try job.work(db))
                                return .commit
                            } catch let error as AppealsError {
                                outcome = .failure(error)
                            } catch {
                                outcome = .failure(.storage("cannot write to database \(database.path): \(AppDatabase.describe(error))"))
                            }
                            return .rollback
                        }
                        results.append(outcome)
                    }
                }
            } catch {
                results = jobs.map { _ in .failure(error) }
            }
            for (job, result) in zip(jobs, results) { job.done(result) }
        }
    }
}
