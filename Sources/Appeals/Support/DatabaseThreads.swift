import Synchronization

/// A few threads of their own for the store's blocking SQLite calls, so that request handlers never block
/// the cooperative pool or the event loops.
final class DatabaseThreads: Sendable {
    private let executors: [ThreadExecutor]
    private let turn = Atomic<Int>(0)

    init(count: Int) {
        executors = (0..<count).map { ThreadExecutor(name: "appeal-web-db-\($0)") }
    }

    /// Runs `body` on one of the threads, in turn.
    func run<T: Sendable>(_ body: @Sendable () throws(AppealsError) -> T) async throws(AppealsError) -> T {
        let executor = executors[turn.add(1, ordering: .relaxed).oldValue % executors.count]
        let result: Result<T, AppealsError> = await withTaskExecutorPreference(executor) {
            do throws(AppealsError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    func shutdown() {
        executors.forEach { $0.shutdown() }
    }
}
