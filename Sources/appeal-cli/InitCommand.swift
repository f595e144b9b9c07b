import Appeals
import ArgumentParser

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create or migrate the database.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let config = try options.loadConfig()
        if config.usesPostgres {
            // The database itself is made by its operator (createdb); init gives it appeal's tables.
            let location = try await options.withPostgres(config, create: true) { store throws(AppealsError) in
                try await store.makeKeys()
                return "\(store.location)"
            }
            print("database ready: \(location)")
            return
        }
        let database = try options.openDatabase(create: true)
        print("database ready: \(database.path)")
    }
}
