import Appeals
import Foundation
import PostgresNIO
import Testing
import TestSupport
@testable import AppealsPostgres

/// How the store waits for a connection: a server that is full is waited for; one that is down is not.
@Suite("PostgreSQL: waiting for a connection")
struct ConnectionWaitTests {
    @Test("a server out of connections for this user is waited for, not taken for a server that is down")
    func outOfConnectionsIsWaitedFor() async throws {
        let server = try PostgresInstance.shared()
        // A user the server lets have three sessions at once, one of them held by another client for 8 seconds.
        let role = try server.createRole(connections: 3)
        defer { server.drop(role: role) }
        let location = try PostgresLocation(url: server.url(role: role), field: InputLocation(file: "test"))
        // On a thread of its own: psql is waited for, and the concurrency pool's threads are the store's.
        let otherDone = DispatchSemaphore(value: 0)
        Thread {
            _ = try? server.query("SELECT pg_sleep(8)", database: role, user: role)
            otherDone.signal()
        }.start()
        let deadline = ContinuousClock.now + .seconds(6)
        while try server.query("SELECT count(*) FROM pg_stat_activity WHERE usename = '\(role)'") != ["1"] {
            try #require(ContinuousClock.now < deadline, "the other client did not connect")
            try await Task.sleep(for: .milliseconds(50))
        }
        let started = ContinuousClock.now

        // Three uses at once, each holding its connection for three seconds: the store's pool may have three, but the
        // server refuses the third (the role is out of sessions). It waits, well past the watch's probe (which is
        // told the server is full), until a connection comes free.
        let answers = try await PostgresStore.withStore(location, password: nil, create: true, connections: 3) { store throws(AppealsError) in
            do {
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    for use in 1...3 {
                        group.addTask {
                            try await store.leased { connection in
                                try await connection.rows("SELECT \(use) FROM pg_sleep(3)", logger: store.logger).decode(Int.self).first ?? 0
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            } catch {
                throw PostgresStore.appealsError(error, location)
            }
        }
        #expect(answers.sorted() == [1, 2, 3])
        // The third waited for a connection to come free: it did not find a third one.
        #expect(ContinuousClock.now - started > .seconds(5.5))
        otherDone.wait()
        #expect(try server.query("SELECT count(*) FROM pg_stat_activity WHERE usename = '\(role)'") == ["0"])
    }

    @Test("a server that stops gives up a use waiting for a connection within seconds, in the socket's words")
    func serverDownIsNotWaitedFor() async throws {
        let server = try PostgresInstance()
        let location = try PostgresLocation(url: server.url(), field: InputLocation(file: "test"))
        var started = ContinuousClock.now
        let failure = await #expect(throws: AppealsError.self) {
            try await PostgresStore.withStore(location, password: nil, create: true, connections: 3) { store throws(AppealsError) in
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // Every connection the store has is held (these uses end as their connections do)...
                        for _ in 1...3 {
                            group.addTask { _ = try? await store.leased { connection in try await connection.rows("SELECT pg_sleep(30)", logger: store.logger) } }
                        }
                        try await Task.sleep(for: .seconds(1))
                        // ...when the server stops, and one more use asks for a connection.
                        server.stop()
                        started = ContinuousClock.now
                        group.addTask { try await store.leased { connection in _ = try await connection.rows("SELECT 1", logger: store.logger) } }
                        try await group.waitForAll()
                    }
                } catch {
                    throw PostgresStore.appealsError(error, location)
                }
            }
        }
        // Not the minute a full server is waited for.
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(failure?.description.contains("Connection refused") == true, "\(String(describing: failure))")
    }
}
