import Appeals
import ArgumentParser

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create or migrate the database.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let database = try options.openDatabase(create: true)
        print("database ready: \(database.path)")
    }
}
