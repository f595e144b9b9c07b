import Testing
@testable import AppealsPostgres

/// How a store sizes its pool within the sessions a user may have.
@Suite("PostgreSQL: the pool within the sessions a user may have")
struct SessionBudgetTests {
    private func budget(_ sessions: Int) -> SessionBudget {
        SessionBudget(sessions: sessions, bound: .role("appeal"), idleSessionTimeout: true)
    }

    @Test("the pool as asked when the budget allows it, else as large as it allows; refused below what a command needs")
    func poolSize() {
        #expect(budget(100).poolSize(wanted: 6, least: 1) == 6)
        #expect(budget(6).poolSize(wanted: 6, least: 1) == 6)
        #expect(budget(2).poolSize(wanted: 6, least: 1) == 2)
        #expect(budget(2).poolSize(wanted: 6, least: 2) == 2)
        #expect(budget(1).poolSize(wanted: 6, least: 1) == 1)
        #expect(budget(1).poolSize(wanted: 3, least: 2) == nil)
        #expect(budget(0).poolSize(wanted: 3, least: 1) == nil)
    }

    @Test("too few for what a command needs: the message names the limit and the fix")
    func refusal() {
        #expect(budget(1).refusal(needing: 2)
                == "this command needs 2 sessions at once, and the role appeal may have only 1 (its CONNECTION LIMIT): raise it (ALTER ROLE appeal CONNECTION LIMIT 2 or more)")
        let server = SessionBudget(sessions: 1, bound: .server(maxConnections: 4, reserved: 3), idleSessionTimeout: true)
        #expect(server.refusal(needing: 2).contains("(max_connections 4, less 3 reserved): raise max_connections"))
    }
}
