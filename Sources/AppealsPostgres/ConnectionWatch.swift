import Appeals
import PostgresNIO
import Synchronization

/// Keeps a command from waiting for ever on a PostgreSQL connection that is gone.
///
/// postgres-nio 1.33 leaves a statement written to a connection that has already closed (the server restarted,
/// or ended the session) waiting for ever, the ROLLBACK after a statement that failed with the connection
/// among them; and a pooled connection is waited for as long as it takes. Every use of a connection goes through
/// ``run(_:leaseLimit:_:)``, which ends it with an error once its connection has closed and nothing has come of
/// it for a second, or when no connection came within the lease limit.
///
/// What was abandoned stays suspended where the driver left it: the server rolled its transaction back, the pool
/// let its connection go, and a command exits with the error soon after.
final class ConnectionWatch: Sendable {
    static let shared = ConnectionWatch()

    private struct Watched {
        var connection: PostgresConnection?
        let since: ContinuousClock.Instant
        /// When a look first found the connection closed.
        var closedAt: ContinuousClock.Instant?
        let leaseLimit: Duration
        let location: PostgresLocation
        /// Connects once, alone, to tell a server that is down from a pool that is busy; returns the server's
        /// words when it answered that it is out of connections for now.
        let probe: @Sendable () async throws(AppealsError) -> String?
        let giveUp: @Sendable (AppealsError) -> Void
    }

    private struct State {
        var next: UInt64 = 0
        var watched: [UInt64: Watched] = [:]
        var looking = false
        /// The servers being probed, by URL.
        var probing: Set<String> = []
        /// When each server last answered a probe: a busy pool is not probed more than once per ``probeAfter``.
        var answered: [String: ContinuousClock.Instant] = [:]
        /// What each server said when a probe found it out of connections, until a probe finds it is not.
        var refused: [String: String] = [:]
        /// Told when a use first waits for a server out of connections (a command says so on standard error).
        var onWait: (@Sendable (String) -> Void)?
        /// The servers ``onWait`` was told of.
        var told: Set<String> = []
    }

    private let state = Mutex(State())
    /// How often the watched uses are looked at; a use whose connection closed is given up at the second look
    /// that finds it closed, so that a reply that came just before the close still wins.
    static let interval = Duration.milliseconds(500)
    /// How long a use waits for a connection before the server is probed: down, every use waiting for it is
    /// given up at once rather than at the lease limit.
    static let probeAfter = Duration.seconds(2)

    /// Runs `body`, which leases a connection and tells `leased` which one as soon as it has it.
    /// - Throws: ``AppealsError/storage(_:)`` when the connection closed under `body` or none came within
    ///   `leaseLimit`; whatever `body` throws.
    func run<T: Sendable>(_ location: PostgresLocation, leaseLimit: Duration, probe: @escaping @Sendable () async throws(AppealsError) -> String?,
                          _ body: @escaping @Sendable (_ leased: @escaping @Sendable (PostgresConnection) -> Void) async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.wait(continuation)
                let id = watch(Watched(connection: nil, since: .now, leaseLimit: leaseLimit, location: location, probe: probe) { error in
                    // This error is the one the waiter gets, not the use's own once cancelled (the pool's "request
                    // cancelled").
                    outcome.resume(.failure(error))
                    outcome.cancel()
                })
                outcome.start(Task {
                    let result: Result<T, any Error>
                    do {
                        result = .success(try await body { connection in self.leased(id, connection) })
                    } catch {
                        result = .failure(error)
                    }
                    self.unwatch(id)
                    outcome.resume(result)
                })
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    /// Has `body` told, once per server, when a use starts waiting for a server out of connections.
    func tellWaits(_ body: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.onWait = body }
    }

    /// Why `location` gives no connection, when the last probe found it out of connections.
    func refusal(_ location: PostgresLocation) -> String? {
        state.withLock { $0.refused["\(location)"] }.map(Self.refusal)
    }

    private static func refusal(_ said: String) -> String {
        "the server says \"\(said)\": it has no session to spare now (max_connections, and the role's and the database's CONNECTION LIMIT, bound the sessions of all processes together)"
    }

    private func watch(_ watched: Watched) -> UInt64 {
        let (id, start) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            state.watched[state.next] = watched
            defer { state.looking = true }
            return (state.next, !state.looking)
        }
        if start { Task { await self.look() } }
        return id
    }

    private func leased(_ id: UInt64, _ connection: PostgresConnection) {
        state.withLock { $0.watched[id]?.connection = connection }
    }

    private func unwatch(_ id: UInt64) {
        _ = state.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// Looks at the watched uses until there are none, giving up those whose connection is gone.
    private func look() async {
        while true {
            try? await Task.sleep(for: Self.interval)
            let now = ContinuousClock.now
            let looked = state.withLock { state -> (abandoned: [(Watched, AppealsError)], probes: [Watched])? in
                guard !state.watched.isEmpty else {
                    state.looking = false
                    return nil
                }
                var abandoned: [(Watched, AppealsError)] = []
                var probes: [Watched] = []
                for (id, var watched) in state.watched {
                    guard let connection = watched.connection else {
                        if now - watched.since > watched.leaseLimit {
                            state.watched[id] = nil
                            let why = state.refused["\(watched.location)"].map(Self.refusal)
                                ?? "out of connections for this user or server? max_connections and each role's connection limit bound appeal's processes"
                            abandoned.append((watched, .storage("\(watched.location) gave no connection within \(watched.leaseLimit.components.seconds) seconds (\(why))")))
                        } else if now - watched.since > Self.probeAfter,
                                  state.answered["\(watched.location)"].map({ now - $0 > Self.probeAfter }) ?? true,
                                  state.probing.insert("\(watched.location)").inserted {
                            probes.append(watched)
                        }
                        continue
                    }
                    guard connection.isClosed else { continue }
                    if watched.closedAt == nil {
                        watched.closedAt = now
                        state.watched[id] = watched
                    } else {
                        state.watched[id] = nil
                        abandoned.append((watched, .storage("PostgreSQL \(watched.location): the connection was lost (the server restarted or ended the session); what it had not committed was rolled back")))
                    }
                }
                return (abandoned, probes)
            }
            guard let looked else { return }
            for (watched, error) in looked.abandoned { watched.giveUp(error) }
            for watched in looked.probes { Task { await self.probe(watched) } }
        }
    }

    /// Probes `watched`'s server; down, every use still waiting for one of its connections is given up.
    private func probe(_ watched: Watched) async {
        let location = "\(watched.location)"
        do throws(AppealsError) {
            let refused = try await watched.probe()
            let tell = state.withLock { state -> (@Sendable (String) -> Void)? in
                state.probing.remove(location)
                state.answered[location] = .now
                state.refused[location] = refused
                guard refused != nil, state.told.insert(location).inserted else { return nil }
                return state.onWait
            }
            if let tell, let refused {
                tell("\(watched.location): waiting up to \(watched.leaseLimit.components.seconds) seconds for a session: \(Self.refusal(refused))")
            }
        } catch {
            let waiting = state.withLock { state in
                state.probing.remove(location)
                let waiting = state.watched.filter { $0.value.connection == nil && "\($0.value.location)" == location }
                for id in waiting.keys { state.watched[id] = nil }
                return Array(waiting.values)
            }
            for watched in waiting { watched.giveUp(error) }
        }
    }
}

/// A use's result, handed to its waiter once: by the use itself or by the watch giving up on it.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The use's task, cancelled at once if its waiter was cancelled before it started.
    func start(_ work: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.work = work
            return state.cancelled
        }
        if cancelled { work.cancel() }
    }

    func cancel() {
        let work = state.withLock { state in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }

    func resume(_ result: Result<T, any Error>) {
        let waiting = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume(with: result)
    }
}
