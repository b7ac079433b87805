import ANNCommands

ToolRunner.main(TrainCommand.self)
