import ANNCommands

ToolRunner.main(PackCommand.self)
