import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "Import, list, change, enable, disable or remove a campaign's targets.",
        subcommands: [Import.self, List.self, Update.self, Enable.self, Disable.self, Remove.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add targets from a CSV file (header as targets.csv).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The CSV file.") var file: String
        @Option(help: "The campaign's slug.") var campaign: String
        @Flag(help: "Import the good rows and list the bad ones, instead of rejecting the file.") var skipInvalid = false

        func run() async throws {
            let (file, campaign, skipInvalid) = (file, campaign, skipInvalid)
            let report = try await options.onStore(sqlite: { database throws(AppealsError) in
                try database.importTargets(try CSVTable(path: file, known: Target.csvColumns, required: Target.csvRequiredColumns),
                                           campaign: campaign, skipInvalid: skipInvalid)
            }, postgres: { store throws(AppealsError) in
                try await store.importTargets(try CSVTable(path: file, known: Target.csvColumns, required: Target.csvRequiredColumns),
                                              campaign: campaign, skipInvalid: skipInvalid)
            })
            printImport(report, noun: "target", campaign: campaign)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a campaign's targets.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String

        func run() async throws {
            let campaign = campaign
            let targets = try await options.onStore(sqlite: { database throws(AppealsError) in try database.targets(ofCampaign: campaign) },
                                                    postgres: { store throws(AppealsError) in try await store.targets(ofCampaign: campaign) })
            for target in targets {
                let place = target.country.map { " (\($0))" } ?? ""
                let state = target.removedAt != nil ? "\tremoved" : target.disabled ? "\tdisabled: \(terminalSafe(target.disabledReason ?? ""))" : ""
                print("\(target.kind.rawValue)\(place)\t\(target.name)\t\(target.title)\t\(target.email)\(state)")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a target's address or details; its unsent letters are written again, sent letters keep their history.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "The target's current email.") var email: String
        @Option(help: "Its new email.") var newEmail: String?
        @Option var name: String?
        @Option var title: String?
        @Option(help: "How the letter greets the target, such as \"Your Excellency\".") var salutation: String?
        @Option(help: "ISO 3166-1 alpha-2 code (an embassy's host country).") var country: String?
        @Option(help: "Language code, such as fr.") var language: String?
        @Option(help: "Postal address (\"\" clears it).") var postalAddress: String?
        @Option(help: "Fax number (\"\" clears it).") var fax: String?
        @Option(help: "IANA time zone, such as Asia/Baku (\"\" clears it).") var timezone: String?

        func run() async throws {
            var changes = TargetChanges()
            changes.email = newEmail
            changes.name = name
            changes.title = title
            changes.salutation = salutation
            changes.country = country
            changes.language = language
            changes.postalAddress = postalAddress
            changes.fax = fax
            changes.timezone = timezone
            let (campaign, email, wanted) = (campaign, email, changes)
            let update = try await options.onStore(sqlite: { database throws(AppealsError) in
                try database.updateTarget(campaign: campaign, email: email, changes: wanted)
            }, postgres: { store throws(AppealsError) in
                try await store.updateTarget(campaign: campaign, email: email, changes: wanted)
            })
            print("updated \(update.after.name) <\(update.after.email)>: \(plural(update.rewritten, "unsent letter")) written again")
            if update.beingSent > 0 {
                print("\(plural(update.beingSent, "letter")) being sent by a running send at this moment keep\(update.beingSent == 1 ? "s" : "") the old text")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a target again (once its address is fixed): its held letters go out.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "The target's email.") var email: String

        func run() async throws {
            let held = try await TargetCommand.setEnabled(true, options: options, campaign: campaign, email: email)
            print("enabled \(email): \(plural(held, "held letter")) will go out with the next send")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a target: it receives nothing, its letters are held until it is enabled.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "The target's email.") var email: String

        func run() async throws {
            let held = try await TargetCommand.setEnabled(false, options: options, campaign: campaign, email: email)
            print("disabled \(email): \(plural(held, "letter")) held")
        }
    }

    /// - Returns: how many letters the target holds back (disabled) or lets go (enabled).
    static func setEnabled(_ enabled: Bool, options: GlobalOptions, campaign: String, email: String) async throws -> Int {
        try await options.onStore(sqlite: { database throws(AppealsError) in try database.setTargetEnabled(enabled, campaign: campaign, email: email).held },
                                  postgres: { store throws(AppealsError) in try await store.setTargetEnabled(enabled, campaign: campaign, email: email).held })
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a target: its unsent letters are cancelled; the counts stay.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The campaign's slug.") var campaign: String
        @Option(help: "The target's email.") var email: String

        func run() async throws {
            let (campaign, email) = (campaign, email)
            let result = try await options.onStore(sqlite: { database throws(AppealsError) in try database.removeTarget(campaign: campaign, email: email) },
                                                   postgres: { store throws(AppealsError) in try await store.removeTarget(campaign: campaign, email: email) })
            print("removed \(result.0.email) from \(campaign): \(plural(result.cancelled, "unsent letter")) cancelled")
        }
    }
}
