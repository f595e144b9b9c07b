import Appeals
import ArgumentParser

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "Import or list a campaign's targets.", subcommands: [Import.self, List.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add targets from a CSV file (header as targets.csv).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(help: "The campaign's slug.") var campaign: String
        @Flag(help: "Import the good rows and list the bad ones, instead of rejecting the file.") var skipInvalid = false

        func run() throws {
            let database = try options.openDatabase()
            let report = try reporting { () throws(AppealsError) in
                let table = try CSVTable(path: file, known: Target.csvColumns, required: Target.csvRequiredColumns)
                return try database.importTargets(table, campaign: campaign, skipInvalid: skipInvalid)
            }
            printImport(report, noun: "targets", campaign: campaign)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a campaign's targets.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String

        func run() throws {
            let database = try options.openDatabase()
            let targets = try reporting { () throws(AppealsError) in try database.targets(ofCampaign: campaign) }
            for target in targets {
                let place = target.country.map { " (\($0))" } ?? ""
                let state = target.disabled ? "\tdisabled" : ""
                print("\(target.kind.rawValue)\(place)\t\(target.name)\t\(target.title)\t\(target.email)\(state)")
            }
        }
    }
}
