import Testing
@testable import AppealsPostgres

/// How a store shares the sessions the server allows between its pools.
@Suite("PostgreSQL: the pools within the sessions a user may have")
struct SessionBudgetTests {
    private func budget(_ sessions: Int) -> SessionBudget {
        SessionBudget(sessions: sessions, bound: .role("appeal"), idleSessionTimeout: true)
    }

    @Test("enough sessions: the pools as asked")
    func enough() {
        #expect(budget(100).poolSizes(main: 3, least: 1, notes: 3)! == (3, 3))
        #expect(budget(6).poolSizes(main: 3, least: 1, notes: 3)! == (3, 3))
    }

    @Test("fewer: shared, each pool given what it needs at the least, never more than the budget")
    func shared() throws {
        for sessions in 2...12 {
            for (main, least, notes) in [(3, 1, 3), (10, 1, 3), (3, 2, 0), (3, 1, 0), (10, 1, 9)] {
                let sizes = try #require(budget(sessions).poolSizes(main: main, least: least, notes: notes))
                #expect(sizes.main + sizes.notes <= sessions)
                #expect(sizes.main >= least && sizes.main <= main)
                #expect(sizes.notes <= notes && (notes == 0 || sizes.notes >= 1))
            }
        }
        #expect(budget(2).poolSizes(main: 3, least: 1, notes: 3)! == (1, 1))
        #expect(budget(5).poolSizes(main: 10, least: 1, notes: 3)! == (4, 1))
        #expect(budget(2).poolSizes(main: 3, least: 2, notes: 0)! == (2, 0))
    }

    @Test("too few for what a command needs at the least: refused, the message naming the limit and the fix")
    func tooFew() {
        #expect(budget(1).poolSizes(main: 3, least: 1, notes: 3) == nil)
        #expect(budget(1).poolSizes(main: 3, least: 2, notes: 0) == nil)
        #expect(budget(1).poolSizes(main: 3, least: 1, notes: 0)! == (1, 0))
        #expect(budget(1).refusal(needing: 2)
                == "this command needs 2 sessions at once, and the role appeal may have only 1 (its CONNECTION LIMIT): raise it (ALTER ROLE appeal CONNECTION LIMIT 2 or more)")
        let server = SessionBudget(sessions: 1, bound: .server(maxConnections: 4, reserved: 3), idleSessionTimeout: true)
        #expect(server.refusal(needing: 2).contains("(max_connections 4, less 3 reserved): raise max_connections"))
    }
}
