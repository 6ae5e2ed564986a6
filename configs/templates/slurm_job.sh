#!/bin/bash
# lisflow Slurm job (FireWorks CommonAdapter template, offline mode). Every value below was
# validated by lisflow.launch.slurm; lines whose placeholder is unset are dropped by FireWorks.
#SBATCH --job-name=$${job_name}
#SBATCH --partition=$${queue}
#SBATCH --account=$${account}
#SBATCH --qos=$${qos}
#SBATCH --nodes=$${nodes}
#SBATCH --ntasks=$${ntasks}
#SBATCH --cpus-per-task=$${cpus_per_task}
#SBATCH --time=$${walltime}
#SBATCH --mem=$${mem}
#SBATCH --output=slurm-%j.out
#SBATCH --error=slurm-%j.err

# The compute node never talks to the databases: no credentials in the job's environment.
unset LISFLOW_DB_URL LISFLOW_DB_URL_FILE LISFLOW_MONGO_URI LISFLOW_MONGO_URI_FILE MONGOMOCK_SERVERSTORE_FILE
export LISFLOW_DEFER_STORE=1
$${pre_rocket}
# seconds left in this job, for custodian / the engines to stop cleanly (empty: unlimited)
LISFLOW_WALLTIME_S="$("$${python}" -m lisflow.launch.walltime)"
export LISFLOW_WALLTIME_S
cd "$${launch_dir}" || exit 1
$${rocket_launch}
