import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Move the campaigns' store from the SQLite file to PostgreSQL.",
        subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy everything in the SQLite file into an empty PostgreSQL database, and check the counts.",
            discussion: """
                Copies campaigns, targets, supporters, letters (status, attempts, texts), delivery attempts, pending \
                confirmations, bounces and keys in one transaction, and commits only when every table's rows and the \
                letters by status match the file. Refused while a sender (send, serve) runs on the file. The password \
                comes from the environment variable the config's databasePasswordEnv names \
                (APPEAL_DATABASE_PASSWORD by default). See docs/postgresql.md.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full&sslrootcert=FILE]")
        var to: String

        func run() async throws {
            let config = try options.loadConfig()
            let database = try options.openDatabase()
            let location = try reporting { () throws(AppealsError) in try PostgresLocation(url: to, field: InputLocation(file: "--to")) }
            let password = ProcessInfo.processInfo.environment[config.databasePasswordEnv]
            let policy = RetryPolicy(config.limits)
            let report = try await reporting { () async throws(AppealsError) in
                try await PostgresStore.withStore(location, password: password, create: true) { store throws(AppealsError) in
                    try await DatabaseCopy.copy(from: database, to: store, policy: policy)
                }
            }
            for (table, rows) in report.tables { print("\(table): \(plural(rows, "row"))") }
            let statuses = report.letters.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("copied \(database.path) to \(location), counts checked (letters: \(statuses.isEmpty ? "none" : statuses))")
        }
    }
}
