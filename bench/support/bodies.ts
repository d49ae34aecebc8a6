/**
 * Request content shared by the benchmarks: the free-text `notes` of the ~1 KB `POST /pets` body
 * that `npm run bench` sends (issue #7's body benchmark) and `bench/waf-cost.ts` inspects alone.
 */
export const PET_NOTES =
  'Adopted from the shelter on Main Street in March. He is friendly with children and other dogs, but please select the best option from the menu of foods: ' +
  'he is allergic to chicken and wheat. Walks twice a day, around 45 minutes each; he pulls on the leash when he sees cats. Vaccinations are up to date ' +
  '(rabies, distemper, parvovirus); the next check-up is due in October. Notes from the trainer: responds well to "sit", "stay" and "down"; still working on ' +
  'recall in open parks. Café visits are fine — he sleeps under the table. Contact the owner at the usual number if he seems unwell; the vet is Dr. O\'Brien ' +
  'at the clinic on 5th Avenue (open until 7 pm). Grooming every six weeks; he dislikes the hair dryer, so towel him off instead. Favourite toy: the blue rope.';
