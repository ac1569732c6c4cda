using BatchNorm.Harness.Cases;
using BatchNorm.Harness.Exchange;
using BatchNorm.Harness.Kernels;
using BatchNorm.Harness.Npy;
using BatchNorm.Harness.Verification;

namespace BatchNorm.Tests.Unit;

/// <summary>
/// Plays the user's program of the export / check protocol in process: reads each case's input files
/// (and nothing else bnverify knows), runs a kernel on them, writes the outputs the manifest asks for.
/// </summary>
internal static class ExternalProgram
{
    public static void Run(string root, IBatchNormKernel kernel)
    {
        var (manifest, cases) = ExportCheck.Open(root);
        for (int i = 0; i < cases.Count; i++)
        {
            var exported = manifest.Cases[i];
            string folder = Path.Combine(root, exported.Directory);
            float[] Input(BatchNormInput name) =>
                exported.Inputs.Contains(name) ? NpyArray.Read(Path.Combine(folder, name.FileStem() + ".npy")).ToFloat32() : [];
            var inputs = new CaseInputs
            {
                X = Input(BatchNormInput.X),
                Gamma = Input(BatchNormInput.Gamma),
                Beta = Input(BatchNormInput.Beta),
                RunningMean = Input(BatchNormInput.RunningMean),
                RunningVariance = Input(BatchNormInput.RunningVariance),
                Dy = Input(BatchNormInput.Dy),
                SavedMean = Input(BatchNormInput.SavedMean),
                SavedInvStd = Input(BatchNormInput.SavedInvStd),
                ForwardY = Input(BatchNormInput.ForwardY),
            };

            // The case as the manifest describes it: pass, shape and options; nothing drawn from a seed.
            var @case = new VerificationCase
            {
                Name = exported.Name,
                Shape = exported.Shape,
                Pass = exported.Pass,
                Options = exported.Options,
                WithRunningStats = exported.Inputs.Contains(BatchNormInput.RunningMean),
            };
            if (exported.Pass == BatchNormPass.BackwardTraining && !exported.Inputs.Contains(BatchNormInput.SavedMean))
            {
                // Exported with --own-statistics: the program's own forward saves them, as autograd's does.
                var forward = KernelRun.Execute(kernel, @case with { Pass = BatchNormPass.ForwardTraining, WithRunningStats = false }, inputs);
                inputs = inputs with { SavedMean = forward.Outputs[BatchNormOutput.BatchMean], SavedInvStd = forward.Outputs[BatchNormOutput.BatchInvStd] };
            }

            var run = KernelRun.Execute(kernel, @case, inputs);
            foreach (var output in exported.Outputs)
            {
                float[] values = run.Outputs[output];
                long[] shape = output.IsElementwise() ? exported.XShape : [values.Length];
                NpyArray.WriteFloat32(Path.Combine(folder, output.FileStem() + ".npy"), values, shape);
            }
        }
    }
}
