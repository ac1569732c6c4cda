using BenchmarkDotNet.Running;

// Micro-benchmarks of the optimized kernel per width, layout and pass. The table users read
// (with a bandwidth probe and the anchors' shapes) is `bnverify bench`; this is for kernel work:
//   dotnet run --project bench -c Release -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(BatchNorm.Bench.KernelBenchmarks).Assembly).Run(args);
