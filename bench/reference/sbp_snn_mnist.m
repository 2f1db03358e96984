% Runs the SBP paper's released MATLAB SNN (thomasaimondy/SBP, folder SBP_SNN_STDP_Matlab/snn,
% with snnplasticitysbp.m, snn_build_measure.m, snn_hebb_energy.m and snn_mse_cost.m from
% SBP_SNN_STDP/snn) on MNIST read from the IDX files, with the options of
% main_snn_server_tasks_models.m, so that spikelab's `sbp-snn` can be compared with the
% reference code itself on the same data. See README.md beside this file.
%
%   octave --no-gui -q sbp_snn_mnist.m IDX_DIR NTRAIN NTEST EPOCHS RULE SEED [ALPHA] [V_RESET]
%
% RULE: SBP, symmetricSTDP or differentialSTDP. ALPHA: the learning rates, e.g. "[0.1 0.05]"
% (the default); V_RESET: -0.1 (main_snn_desktop.m, spikelab's default) or -0.5 (the server
% scripts). The reference's own per-epoch lines ("N-test-End ... error=") are printed.
args = argv();
if numel(args) < 6
  error('usage: sbp_snn_mnist.m IDX_DIR NTRAIN NTEST EPOCHS RULE SEED [ALPHA] [V_RESET]');
end
idx_dir = args{1};
ntrain = str2num(args{2}); ntest = str2num(args{3}); epochs = str2num(args{4});
rule = args{5}; seed = str2num(args{6});
alpha = [0.1 0.05]; if numel(args) >= 7, alpha = str2num(args{7}); end
v_reset = -0.1; if numel(args) >= 8, v_reset = str2num(args{8}); end

function x = read_images(file, n)
  fid = fopen(file, 'r', 'ieee-be');
  if fid < 0, error('cannot open %s', file); end
  header = fread(fid, 4, 'int32');
  if header(1) ~= 2051 || header(2) < n, error('%s: not an IDX image file with %d images', file, n); end
  x = fread(fid, [784, n], 'uint8=>double')' / 255.0;
  fclose(fid);
end
function y = read_labels(file, n)
  fid = fopen(file, 'r', 'ieee-be');
  if fid < 0, error('cannot open %s', file); end
  header = fread(fid, 2, 'int32');
  if header(1) ~= 2049 || header(2) < n, error('%s: not an IDX label file with %d labels', file, n); end
  labels = fread(fid, n, 'uint8');
  fclose(fid);
  y = zeros(n, 10); y(sub2ind([n 10], (1:n)', labels + 1)) = 1;
end
train_x = read_images(fullfile(idx_dir, 'train-images-idx3-ubyte'), ntrain);
train_y = read_labels(fullfile(idx_dir, 'train-labels-idx1-ubyte'), ntrain);
test_x = read_images(fullfile(idx_dir, 't10k-images-idx3-ubyte'), ntest);
test_y = read_labels(fullfile(idx_dir, 't10k-labels-idx1-ubyte'), ntest);

rand('seed', seed);
opts = struct('configvariables', []);
opts.task = 'mnist'; opts.architecture = [784 500 10]; opts.batchsize = 50; opts.numepochs = epochs;
opts.n_it_neg = 20; opts.n_it_pos = 5; opts.epsilon = 0.5; opts.beta = 0.5; opts.alpha = alpha;
opts.noise_type = 'none'; opts.set_EI = false; opts.negtive_rate = [0.5 0.5 0.5];
opts.stdp_type = rule; opts.propagation_range = 0.1; opts.fraction = 0.2;
opts.lamda_sp_pre = 1; opts.lamda_sp_post = 0.5; opts.lamda_sp_bp = 1;
opts.V_E = 0.2; opts.V_I = 0.1; opts.V_leak = 0; opts.V_th = 0.05; opts.reset = v_reset;
opts.taum = 10; opts.tau_syn_E = 2; opts.tau_syn_I = 2; opts.g_leak_E = 5; opts.g_leak_I = 5;
opts.dt = 0.1; opts.T = 10;
opts.setSTP = false; opts.U = 0.45; opts.tauf = 10; opts.taud = 2; opts.taus = 2; opts.A = 10;
opts.plot = false;
% snntrain also logs each epoch to opts.fid; the same lines reach stdout, so the file goes.
log_file = tempname();
opts.fid = fopen(log_file, 'w');
nn = snnsetup(opts);
nn = snntrain(nn, train_x, train_y, test_x, test_y, opts);
fclose(opts.fid);
delete(log_file);
